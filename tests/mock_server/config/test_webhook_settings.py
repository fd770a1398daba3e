"""The webhook settings: validated once, reachable as keyword, FLUX_MOCK_* variable and flux-mock flag."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from webhook_support import SECRET

from mock_server import Settings, SettingsError
from mock_server.run.cli import main


def test_defaults_are_safe() -> None:
    s = Settings()
    assert s.webhook_allow_hosts == ("127.0.0.1", "localhost", "::1")
    assert (s.webhook_url, s.webhook_secret, s.webhook_fault) == (None, None, None)
    assert (s.webhook_events, s.webhook_transport, s.webhook_retries) == ("final", "http", 5)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"webhook_url": "http://example.com/hook"}, "allow-list"),
        ({"webhook_url": "ftp://localhost/"}, "webhook_url"),
        ({"webhook_retries": 0}, "webhook_retries"),
        ({"webhook_timeout_s": 0}, "webhook_timeout_s"),
        ({"webhook_backoff_s": 10, "webhook_backoff_max_s": 5}, "webhook_backoff_max_s"),
        ({"webhook_concurrency": 0}, "webhook_concurrency"),
        ({"webhook_allow_hosts": ("http://x",)}, "webhook_allow_hosts"),
        ({"webhook_fault": "explode"}, "unknown webhook fault"),
        ({"webhook_events": "sometimes"}, "webhook_events"),
        ({"webhook_transport": "pigeon"}, "webhook_transport"),
        ({"webhook_grace_s": -1}, "webhook_grace_s"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings(**overrides)  # type: ignore[arg-type]


def test_a_bad_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as info:
        Settings(webhook_secret="whsec_super-secret-but-not-base64!")
    assert "super-secret" not in str(info.value)
    assert "whsec_" in str(info.value)  # says what a good one looks like


def test_default_url_on_an_allowed_host_and_a_good_secret_are_accepted() -> None:
    s = Settings(webhook_url="http://127.0.0.1:9000/hook", webhook_secret=SECRET, webhook_fault="duplicate,delay=1")
    assert s.webhook_url == "http://127.0.0.1:9000/hook"


def test_environment_variables() -> None:
    env = {
        "FLUX_MOCK_WEBHOOK_ALLOW_HOSTS": "localhost, *.hooks.test",
        "FLUX_MOCK_WEBHOOK_RETRIES": "3",
        "FLUX_MOCK_WEBHOOK_TIMEOUT_S": "1.5",
        "FLUX_MOCK_WEBHOOK_EVENTS": "progress",
        "FLUX_MOCK_WEBHOOK_URL": "https://a.hooks.test/in",
    }
    s = Settings.from_env(env)
    assert s.webhook_allow_hosts == ("localhost", "*.hooks.test")
    assert (s.webhook_retries, s.webhook_timeout_s, s.webhook_events) == (3, 1.5, "progress")
    assert s.webhook_url == "https://a.hooks.test/in"


def test_cli_flags_exist_with_singular_repeatable_allow_host() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--webhook-url",
        "--webhook-events",
        "--webhook-retries",
        "--webhook-timeout-s",
        "--webhook-backoff-s",
        "--webhook-secret",
        "--webhook-allow-host",
        "--webhook-fault",
        "--webhook-grace-s",
        "--webhook-transport",
        "FLUX_MOCK_WEBHOOK_ALLOW_HOSTS",
    ):
        assert flag in result.output


def test_cli_values_become_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("FLUX_MOCK_")]:
        monkeypatch.delenv(key)
    s = Settings.from_cli(
        {"webhook_allow_hosts": ("localhost", "hooks.test"), "webhook_retries": "2", "webhook_fault": "drop"}
    )
    assert (s.webhook_allow_hosts, s.webhook_retries, s.webhook_fault) == (("localhost", "hooks.test"), 2, "drop")
