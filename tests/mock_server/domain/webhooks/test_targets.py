"""Tests for mock_server.domain.webhooks.targets: the allow-list that keeps the mock from being an open proxy."""

from __future__ import annotations

import pytest

from mock_server.domain.webhooks.targets import LOOPBACK_HOSTS, check_pattern, host_allowed, refusal, target_host


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/",
        "http://LOCALHOST:80/a?b",
        "http://[::1]:8000/h",
        "https://u:p@localhost/",
    ],
)
def test_loopback_urls_are_allowed_by_default(url: str) -> None:
    assert refusal(url, LOOPBACK_HOSTS) is None


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://example.com/hook", "example.com"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://localhost.evil.test/", "localhost.evil.test"),
        ("http://127.0.0.1.nip.io/", "127.0.0.1.nip.io"),
        # Parser confusion: these *look* like loopback to a naive reader; httpx (which sends) connects to evil.com.
        ("http://127.0.0.1\\@evil.com/x", "evil.com"),
        ("http://evil.com#@localhost/", "evil.com"),
        ("http://localhost./", "localhost."),
    ],
)
def test_other_hosts_are_refused_naming_the_host_and_the_rule(url: str, host: str) -> None:
    reason = refusal(url, LOOPBACK_HOSTS)
    assert reason is not None
    assert repr(host) in reason
    assert "allow-list" in reason
    assert target_host(url) == host


def test_refusal_of_a_non_http_url() -> None:
    reason = refusal("ftp://localhost/x", LOOPBACK_HOSTS)
    assert reason is not None
    assert "http" in reason


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("hooks.example.test", ("*.example.test",), True),
        ("a.b.example.test", ("*.example.test",), True),
        ("example.test", ("*.example.test",), False),
        ("badexample.test", ("*.example.test",), False),
        ("anything.at.all", ("*",), True),
        ("::1", ("[::1]",), True),
        ("10.0.0.5", (), False),
    ],
)
def test_host_patterns(host: str, patterns: tuple[str, ...], allowed: bool) -> None:
    assert host_allowed(host, patterns) is allowed


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("localhost", True),
        ("*", True),
        ("*.x.test", True),
        ("", False),
        ("a b", False),
        ("*x", False),
        ("http://x", False),
        ("*.", False),
    ],
)
def test_check_pattern(pattern: str, ok: bool) -> None:
    assert check_pattern(pattern) is ok


@pytest.mark.parametrize("url", ["HTTP://LOCALHOST/x", "Https://127.0.0.1:443/", "hTTp://[::1]:1/"])
def test_schemes_are_case_insensitive(url: str) -> None:
    assert refusal(url, LOOPBACK_HOSTS) is None


@pytest.mark.parametrize(("url", "port"), [("http://127.0.0.1:99999/", "99999"), ("http://[::1]:0/", "0")])
def test_ports_outside_1_to_65535_are_refused(url: str, port: str) -> None:
    reason = refusal(url, LOOPBACK_HOSTS)
    assert reason is not None
    assert f"port {port}; a TCP port is 1..65535" in reason


def test_a_url_the_allow_list_and_the_sender_read_differently_is_blocked() -> None:
    from mock_server.services.webhooks.service import _blocked

    # U+3002 (ideographic full stop) is a dot to IDNA (httpx) but not to urllib: the readings differ.
    url = "http://localhost\u3002evil.com/"
    assert refusal(url, ("localhost\u3002evil.com",)) is None
    reason = _blocked(url, ("localhost\u3002evil.com",))
    assert reason is not None
    assert "'localhost.evil.com' to the sender" in reason
    assert _blocked("http://127.0.0.1:8080/x", LOOPBACK_HOSTS) is None
    assert _blocked("http://127.0.0.1\t@evil.com/", ("*",)) is not None  # the sender refuses it outright
