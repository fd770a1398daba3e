"""Settings: one frozen object; keyword, env var and flag mirror each other."""

from __future__ import annotations

import dataclasses

import pytest

from mock_server import Settings, SettingsError
from mock_server.config.options import option_of


def test_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_env_then_keywords() -> None:
    env = {"FLUX_MOCK_PORT": "9000", "FLUX_MOCK_JOB_SECONDS": "realistic", "FLUX_MOCK_API_KEYS": "a, b", "HOME": "/x"}
    settings = Settings.from_env(env, seed=5)
    assert (settings.port, settings.job_seconds, settings.api_keys, settings.seed) == (9000, 12.0, ("a", "b"), 5)
    assert Settings.from_env(env, port=1).port == 1


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"FLUX_MOCK_PORTT": "1"}, "Did you mean 'FLUX_MOCK_PORT'"),
        ({"FLUX_MOCK_SCENARIOS": "qa.yaml"}, "Did you mean 'FLUX_MOCK_SCENARIOS_FILE'"),
        ({"FLUX_MOCK_API_KEY": "k"}, "Did you mean 'FLUX_MOCK_API_KEYS'"),
        ({"FLUX_MOCK_PORT": "eighty"}, "FLUX_MOCK_PORT has value 'eighty'"),
        ({"FLUX_MOCK_JOB_SECONDS": "fast"}, "instant, demo, realistic"),
        ({"FLUX_MOCK_PORT": "70000"}, "0 to 65535"),
    ],
)
def test_bad_env_named(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"job_seconds": -1}, "job_seconds"),
        ({"timestamp_format": "unix"}, "timestamp_format"),
        ({"public_url": "ftp://x"}, "public_url"),
        ({"api_keys": ("",)}, "api_keys"),
        ({"max_body_bytes": 10}, "max_body_bytes"),
        ({"job_ttl": 0}, "job_ttl"),
        ({"max_jobs": 0}, "max_jobs"),
        ({"webhook_lease_s": 0.01}, "webhook_lease_s"),
        ({"workers": 0}, "workers"),
        ({"store": "postgres://x/0"}, "memory or redis://HOST:PORT/DB"),
        ({"store": "redis://127.0.0.1:6379/zero"}, "store"),
        ({"store": "redis://127.0.0.1:99999/0"}, "store"),
        ({"workers": 2}, r"add --store redis://127.0.0.1:6379/0"),
    ],
)
def test_rules_checked_on_creation(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        Settings(**kwargs)  # type: ignore[arg-type]


def test_unknown_keyword_suggests() -> None:
    with pytest.raises(SettingsError, match="Did you mean 'seed'"):
        Settings.from_env({}, sed=1)


def test_base_url() -> None:
    assert Settings(port=81).base_url == "http://127.0.0.1:81"
    assert Settings(public_url="https://mock.example/").base_url == "https://mock.example"
    assert Settings(host="::1", port=5).base_url == "http://[::1]:5"


def test_every_field_documented() -> None:
    for f in dataclasses.fields(Settings):
        declared = option_of(f)
        assert declared is not None, f"{f.name} declares no option"
        assert declared.help, f"{f.name} has no help text"


def test_a_broken_rule_names_the_flag_the_variable_and_the_keyword() -> None:
    with pytest.raises(SettingsError) as info:
        Settings(concurrency=0)
    assert str(info.value) == (
        "--concurrency (env FLUX_MOCK_CONCURRENCY, keyword concurrency) has value 0; it must be an integer >= 1."
    )
    with pytest.raises(SettingsError, match=r"^--webhook-allow-host \(env FLUX_MOCK_WEBHOOK_ALLOW_HOSTS, keyword"):
        Settings(webhook_allow_hosts=("http://x",))
