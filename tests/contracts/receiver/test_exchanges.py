"""Sending: signed exactly as the mock signs, replayable curl lines, and the three kinds of target."""

from __future__ import annotations

import asyncio
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from mutant_receivers import SECRET, GoodReceiver, good_wsgi
from standardwebhooks import Webhook

from contracts.receiver.deliveries import harvest
from contracts.receiver.exchanges import Answer, Sent, Signing, Unreachable, is_asgi, poster
from contracts.receiver.scenarios import BURST_DEFAULT
from mock_server import WebhookSigner

NOW = float(int(time.time()) - 3600)  # an hour ago: outside the 5-minute tolerance


def test_signed_headers_are_the_mocks_and_verify_with_standardwebhooks() -> None:
    delivery = harvest(0, BURST_DEFAULT).final("done")
    headers = Signing(SECRET, now=lambda: NOW).headers(delivery, 2)
    assert headers["X-Mock-Attempt"] == "2"
    expected = WebhookSigner(SECRET).headers(delivery.delivery_id, delivery.body, NOW)  # the dispatcher's signer
    assert {k: headers[k] for k in expected} == expected
    with pytest.raises(Exception, match="too old"):  # signed an hour ago
        Webhook(SECRET).verify(delivery.body, headers)
    fresh = Signing(SECRET).headers(delivery)
    assert Webhook(SECRET).verify(delivery.body, fresh)["messageId"] == delivery.message_id


def test_unsigned_headers_carry_no_signature() -> None:
    delivery = harvest(0, BURST_DEFAULT).final("done")
    headers = Signing(None).headers(delivery)
    assert not [k for k in headers if k.startswith("webhook-")]
    assert headers["X-Mock-Delivery-Id"] == delivery.delivery_id


def test_the_curl_line_sends_the_same_bytes_and_headers() -> None:
    sent = Sent("http://127.0.0.1:9/hook", (("X-A", "it's"), ("webhook-id", "msg_1")), b'{"prompt":"a fox\'s den"}')
    words = shlex.split(sent.curl)
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", "http://127.0.0.1:9/hook"]
    assert words[6:10] == ["-H", "X-A: it's", "-H", "webhook-id: msg_1"]
    assert words[10:] == ["--data-binary", '{"prompt":"a fox\'s den"}']
    assert sent.header("WEBHOOK-ID") == "msg_1"
    assert sent.header("nope") is None


def test_answers_describe_themselves() -> None:
    assert Answer(200, 3.2, '{"ok":true}').describe() == '200 in 3 ms: {"ok":true}'
    assert Answer(204, 1.0).describe() == "204 in 1 ms (empty body)"
    late = Answer(None, 500.0, error="no answer within 0.5 s", timed_out=True)
    assert (late.label, late.describe()) == ("timeout", "no answer within 0.5 s (after 500 ms)")
    assert Answer(None, 1.0, error="no answer: ReadError").label == "no answer"


class _AsyncCallable:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...


class _SyncCallable:
    def __call__(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        return []


async def _asgi_function(scope: Any, receive: Any, send: Any) -> None: ...


def test_asgi_and_wsgi_apps_are_told_apart() -> None:
    assert is_asgi(GoodReceiver().app)
    assert is_asgi(_AsyncCallable())
    assert is_asgi(_asgi_function)
    assert not is_asgi(good_wsgi())
    assert not is_asgi(_SyncCallable())
    with pytest.raises(TypeError, match="a URL or an ASGI or WSGI app; got int"):
        poster(42)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_nothing_listening_is_unreachable() -> None:
    async def main() -> None:
        sender = poster(f"http://127.0.0.1:{_closed_port()}/hook")
        try:
            await sender.post(Sent(sender.url, (), b"{}"), 2.0)
        finally:
            await sender.aclose()

    with pytest.raises(Unreachable, match="ConnectError"):
        asyncio.run(main())


def test_a_wsgi_app_that_does_not_answer_times_out() -> None:
    release = threading.Event()

    def stuck(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        release.wait(5)
        start_response("200 OK", [])
        return [b""]

    async def main() -> Answer:
        sender = poster(stuck, path="hook")
        try:
            return await sender.post(Sent(sender.url, (), b"{}"), 0.1)
        finally:
            await sender.aclose()
            release.set()

    answer = asyncio.run(main())
    assert answer.timed_out
    assert answer.error == "no answer within 0.1 s"


def test_an_app_that_raises_answers_500_as_a_server_would() -> None:
    def boom(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise KeyError("images")

    async def aboom(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("images")

    async def main(app: Any) -> Answer:
        sender = poster(app)
        try:
            return await sender.post(Sent(sender.url, (), b"{}"), 2.0)
        finally:
            await sender.aclose()

    wsgi, asgi = asyncio.run(main(boom)), asyncio.run(main(aboom))
    assert (wsgi.status, asgi.status) == (500, 500)
    assert "the app raised KeyError" in wsgi.body
