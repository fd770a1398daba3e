"""examples/container: the compose file is not run here (no docker), but what it tells flux-mock is checked.

Its mock command and environment go through the same parser as ``flux-mock serve`` and must make valid
settings; the load balancer must point at the port the replicas listen on, and image URLs at the port it publishes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server import Settings
from mock_server.run.cli import serve
from mock_server.run.options import cli_values
from mock_server.run.server import banner

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "container"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLE / "compose.yaml").read_text())
    return document


def _interpolated(value: str) -> str:
    # ${VAR:?message} and ${VAR:-default}, as compose fills them in; here the variable is always "set".
    return re.sub(r"\$\{(\w+)(?::[?-][^}]*)?\}", lambda m: f"value-of-{m.group(1)}", value)


@pytest.fixture
def mock_settings(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    service = compose["services"]["mock"]
    for name, value in service["environment"].items():
        monkeypatch.setenv(name, _interpolated(str(value)))
    context = serve.make_context("serve", list(service["command"][1:]))
    assert service["command"][0] == "serve"
    return Settings.from_cli(cli_values(Settings, context.params))


def test_the_mock_service_builds_this_containerfile_twice_over_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"redis", "mock", "nginx"}
    mock = services["mock"]
    assert (EXAMPLE / mock["build"]["context"] / mock["build"]["dockerfile"]).resolve().is_file()
    assert mock["deploy"]["replicas"] == 2
    assert mock["depends_on"]["redis"]["condition"] == "service_healthy"


def test_its_settings_are_valid_and_shared_on_redis(mock_settings: Settings) -> None:
    assert mock_settings.store == "redis://redis:6379/0"
    assert mock_settings.host == "0.0.0.0"
    assert mock_settings.admin_token == "value-of-FLUX_MOCK_ADMIN_TOKEN"  # required: compose refuses to start without
    assert mock_settings.webhook_allow_hosts == ("host.docker.internal",)
    text = banner(mock_settings)
    assert "image URLs" not in text  # FLUX_MOCK_PUBLIC_URL is set
    assert "webhooks go only to" not in text


def test_nginx_balances_over_the_replicas_port_and_publishes_the_public_url(
    compose: dict[str, Any], mock_settings: Settings
) -> None:
    conf = (EXAMPLE / "nginx.conf").read_text()
    assert f"server mock:{mock_settings.port};" in conf
    assert "proxy_set_header Host $http_host;" in conf  # a loopback Host, which the admin API accepts
    nginx = compose["services"]["nginx"]
    assert nginx["volumes"] == ["./nginx.conf:/etc/nginx/nginx.conf:ro"]
    published = {port.rsplit(":", 2)[-2] for port in nginx["ports"]}
    assert mock_settings.public_url is not None
    assert published == {mock_settings.public_url.rsplit(":", 1)[1]}
