"""Where the mock may send webhooks: an allow-list of hosts, so it is never an open proxy.

Rules (`--webhook-allow-host`, repeatable):

- ``localhost``, ``127.0.0.1``, ``::1``: that exact host (case-insensitive; IPv6 without brackets);
- ``*.example.test``: any subdomain of example.test (not example.test itself);
- ``*``: any host. Only for dry runs (``--webhook-transport record``) or networks you trust.

Any port (1..65535) is allowed on an allowed host. The host is read with the standard library's URL parser
(this module is pure); the webhook service compares that reading with httpx's, which connects, and blocks a
URL the two read differently, so a URL cannot pass the check under one reading and reach another host under
the other. Redirects are never followed, so an allowed receiver cannot bounce a delivery elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
RULE = "x-mock-webhook-allow-host"


def target_host(url: str) -> str:
    """The host a delivery to `url` connects to, lower case; ValueError when `url` is not an http(s) URL."""
    try:
        parsed = urlsplit(url)
        host = parsed.hostname  # lower case, IPv6 without brackets
        port_text = parsed.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{url!r} is not a URL: {exc}") from None
    if parsed.scheme.lower() not in ("http", "https") or not host:  # schemes are case-insensitive (RFC 3986)
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
    if port_text and not (port_text.isdigit() and 1 <= int(port_text) <= 65535):
        raise ValueError(f"{url!r} has port {port_text}; a TCP port is 1..65535")
    return host


def host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    """Whether `host` matches one allow-list entry."""
    host = host.lower().strip("[]")
    for pattern in patterns:
        rule = pattern.lower().strip("[]")
        if rule == "*" or rule == host:
            return True
        if rule.startswith("*.") and host.endswith(rule[1:]) and len(host) > len(rule) - 1:
            return True
    return False


def refusal(url: str, patterns: tuple[str, ...]) -> str | None:
    """Why the mock will not send to `url`, or None when it may."""
    try:
        host = target_host(url)
    except ValueError as exc:
        return str(exc)
    if host_allowed(host, patterns):
        return None
    allowed = ", ".join(patterns) if patterns else "nothing"
    return (
        f"webhook host {host!r} is not on the mock's allow-list ({allowed}); the mock refuses to send webhooks "
        f"to other hosts so it cannot be used as an open proxy"
    )


def check_pattern(pattern: str) -> bool:
    """Whether an allow-list entry is well formed: a host name, an IP, ``*`` or ``*.suffix``."""
    rule = pattern.strip()
    if not rule or any(c.isspace() for c in rule) or "/" in rule:
        return False
    if rule == "*":
        return True
    if rule.startswith("*."):
        rule = rule[2:]
    return bool(rule) and "*" not in rule
