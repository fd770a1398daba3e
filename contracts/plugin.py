"""pytest plugin (``pytest11`` entry point ``flux_mock``): a flux-mock for your client's tests.

Fixtures:
    flux_mock         a real server on 127.0.0.1:<free port> for the whole session, reset before each test;
    flux_mock_asgi    the same app in process, on a virtual clock (fast; async httpx clients only);
    webhook_receiver  a recording webhook receiver on 127.0.0.1:<free port>;
    flux_mock_receiver_check
                      holds your own webhook receiver (an ASGI/WSGI app, or a loopback URL) to the delivery
                      contract with the scenarios of ``flux-mock verify-receiver``.

Marker:
    @pytest.mark.flux_mock(scenario="fail", seed=7)   applies to either mock fixture in that test.

Options (group "flux-mock"): --flux-mock-job-seconds, --flux-mock-seed, --flux-mock-api-key.

Example:
    def test_my_client_reports_a_failed_job(flux_mock):
        flux_mock.scenario("fail")
        result = my_client.generate("a fox", base_url=flux_mock.base_url, api_key=flux_mock.api_key)
        assert result.failed
        assert flux_mock.client_violations() == []

Nothing heavy is imported until a fixture is used, so the plugin costs nothing in test runs that ignore it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from contracts.receiver.run import ReceiverReport
    from contracts.verify.checks import ClientRules, ClientViolation, Exchange
    from contracts.verify.exchanges import AnswerRecorder
    from mock_server import LiveServer, MockControl, RequestRecorded, Settings, WebhookAttempted, WebhookReceiver

MARKER = "flux_mock"
ASGI_BASE_URL = "http://flux-mock.invalid"  # .invalid never resolves: the in-process app has no socket


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flux-mock", "flux-mock: the offline ImaginePro Flux API for your client's tests")
    group.addoption(
        "--flux-mock-job-seconds",
        type=_job_seconds,
        default=3.0,
        metavar="SECONDS|PRESET",
        help="Processing time of a job on the flux_mock fixtures, in seconds or a preset as for `flux-mock serve "
        "--job-seconds`: instant (0), demo (3), realistic (12) (default 3).",
    )
    group.addoption(
        "--flux-mock-seed",
        type=int,
        default=0,
        metavar="N",
        help="Seed of the flux_mock fixtures: the same seed gives the same ids and images (default 0).",
    )
    group.addoption(
        "--flux-mock-api-key",
        default="sk-flux-mock-test",
        metavar="KEY",
        help="The only API key the flux_mock fixtures accept (default sk-flux-mock-test).",
    )


def _job_seconds(text: str) -> float:
    """``--flux-mock-job-seconds`` takes the words ``serve --job-seconds`` takes (one declaration, in Settings)."""
    import argparse

    from mock_server import Settings, SettingsError

    try:
        return float(Settings.parse_option("job_seconds", text, source="--flux-mock-job-seconds"))
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario=None, seed=None): arm a flux-mock scenario (e.g. 'fail', 'reject:429') for this test's "
        "flux_mock / flux_mock_asgi, and/or serve it with another seed.",
    )


class _Handle:
    """What both mock fixtures offer: where the mock is, time, scenarios, and what the client did."""

    def __init__(self, app: Any, recorder: AnswerRecorder, base_url: str, api_key: str) -> None:
        self.app = app
        self.recorder = recorder
        self.base_url = base_url
        self.api_key = api_key

    @property
    def admin_url(self) -> str:
        """The admin API root (``/__mock``)."""
        from mock_server import ADMIN_PREFIX

        return self.base_url + ADMIN_PREFIX

    @property
    def env(self) -> dict[str, str]:
        """The variables `flux-mock verify` exports, for a client run as a subprocess."""
        return {
            "IMAGINEPRO_BASE_URL": self.base_url,
            "IMAGINEPRO_API_KEY": self.api_key,
            "IMAGINEPRO_MOCK_ADMIN_URL": self.admin_url,
        }

    @property
    def control(self) -> MockControl:
        """The mock's `MockControl`: jobs, `force`, credits, armed rules, and the rest of QA's switchboard."""
        control: MockControl = self.app.state.control
        return control

    @property
    def settings(self) -> Settings:
        """The mock's settings."""
        return self.control.services.settings

    def advance(self, seconds: float) -> float:
        """Move the mock's clock forward; jobs progress (and webhooks fire) as if `seconds` had passed."""
        return self.control.advance(seconds)

    def scenario(self, scenario: str, *, count: int | None = None, prompt_regex: str | None = None) -> None:
        """Arm `scenario` (e.g. ``"fail"``, ``"reject:429"``) for the next `count` jobs/requests (default: all)."""
        self.control.arm(scenario, count=count, prompt_regex=prompt_regex)

    @property
    def requests(self) -> list[RequestRecorded]:
        """Every API request the mock answered since the test started, oldest first."""
        self.recorder.settle()  # a request the client saw answered may still be on its way into the journal
        return self.control.requests

    @property
    def violations(self) -> list[str]:
        """Every contract rule a request broke, as text."""
        return [f"{e.method} {e.path}: {v}" for e in self.requests for v in e.violations]

    @property
    def webhooks(self) -> list[WebhookAttempted]:
        """Every webhook delivery attempt the mock made, oldest first."""
        return self.control.services.webhooks.journal.entries()

    def wait_for_webhooks(
        self, count: int = 1, *, message_id: str | None = None, timeout: float = 5.0
    ) -> list[WebhookAttempted]:
        """Block until the mock has journaled `count` webhook attempts (for `message_id`); TimeoutError otherwise."""
        return self.control.services.webhooks.journal.wait_for(count, message_id=message_id, timeout=timeout)

    def exchanges(self) -> list[Exchange]:
        """The requests with what the mock answered, as the client checks see them."""
        from contracts.verify.exchanges import exchanges_from

        return exchanges_from(self.requests, list(self.recorder.answers))

    def client_violations(
        self, rules: ClientRules | None = None, *, checks: Iterable[str] | None = None
    ) -> list[ClientViolation]:
        """What `flux-mock verify` would hold against the client for this test's requests (empty: well-behaved).

        Times are the mock's: on `flux_mock_asgi` time moves only with `advance`, so there a client that
        polls several times without an `advance` in between looks like a tight loop.

        Args:
            rules: the limits (default: those of `flux-mock verify` with no flags, and openapi.yaml's routes).
            checks: check names to run (default: all), e.g. ``["request-schema", "poll-after-terminal"]``.
        """
        from contracts.verify.checks import ClientRules, run_checks
        from contracts.verify.exchanges import contract_routes

        rules = rules or ClientRules(documented=contract_routes())
        return run_checks(self.exchanges(), rules, names=checks)

    def reset(self) -> None:
        """Jobs, journal, scenarios, credits, clock offset and recorded answers back to the start."""
        self.control.reset()
        self.recorder.answers.clear()


class FluxMock(_Handle):
    """The `flux_mock` fixture: a real server; point any client at `base_url` with `api_key`."""

    def client(self, **kwargs: Any) -> httpx.Client:
        """A sync httpx client for the mock, authenticated."""
        import httpx

        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, **kwargs)


class FluxMockASGI(_Handle):
    """The `flux_mock_asgi` fixture: the app in process on a `VirtualClock`; time moves only with `advance`."""

    @property
    def transport(self) -> httpx.ASGITransport:
        """An httpx transport into the app, for clients that accept one (``httpx.AsyncClient(transport=...)``)."""
        import httpx

        return httpx.ASGITransport(app=self.recorder)

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the app's start-up and shutdown (webhook delivery needs them) around the block."""
        async with self.app.router.lifespan_context(self.app):
            yield

    @contextlib.asynccontextmanager
    async def client(self, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
        """An authenticated async httpx client into the app, with the app started for the block."""
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"}
        async with (
            self.lifespan(),
            httpx.AsyncClient(transport=self.transport, base_url=self.base_url, headers=headers, **kwargs) as client,
        ):
            yield client


def _settings(config: pytest.Config, seed: int | None = None, **changes: Any) -> Settings:
    from mock_server import Settings

    return Settings(
        job_seconds=config.getoption("--flux-mock-job-seconds"),
        seed=config.getoption("--flux-mock-seed") if seed is None else seed,
        api_keys=(config.getoption("--flux-mock-api-key"),),
        log_level="warning",
        **changes,
    )


def _marker(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    unknown = set(marker.kwargs) - {"scenario", "seed"}
    if marker.args or unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes only scenario= and seed= (got {marker}).")
    return dict(marker.kwargs)


@contextlib.contextmanager
def _serve(settings: Settings) -> Iterator[tuple[LiveServer, FluxMock]]:
    from contracts.verify.exchanges import AnswerRecorder
    from mock_server import LiveServer, SystemClock, create_app

    recorder = AnswerRecorder()
    server = LiveServer(recorder, settings=settings)  # the port is bound first, so image URLs name it
    recorder.app = create_app(server.settings, clock=SystemClock())
    with server:
        yield server, FluxMock(recorder.app, recorder, server.url, settings.api_keys[0])


@pytest.fixture(scope="session")
def _flux_mock_session(request: pytest.FixtureRequest) -> Iterator[FluxMock]:
    with _serve(_settings(request.config)) as (_, handle):
        yield handle


@pytest.fixture
def flux_mock(request: pytest.FixtureRequest) -> Iterator[FluxMock]:
    """A live flux-mock (session-wide, reset before each test) on 127.0.0.1.

    Point your client at ``flux_mock.base_url`` with ``flux_mock.api_key``. Use ``.advance(s)`` to skip
    time, ``.scenario("fail")`` to script the next jobs, ``.requests`` / ``.client_violations()`` to see
    what your client did, and ``.webhooks`` for the webhooks the mock sent.
    """
    options = _marker(request)
    seed = options.get("seed")
    if seed is not None and seed != request.config.getoption("--flux-mock-seed"):
        # Another seed means other ids and images: a server of its own for this test.
        with _serve(_settings(request.config, seed=seed)) as (_, handle):
            _prepare(handle, options)
            yield handle
        return
    handle = request.getfixturevalue("_flux_mock_session")
    _prepare(handle, options)
    yield handle


def _prepare(handle: _Handle, options: dict[str, Any]) -> None:
    handle.reset()
    if options.get("scenario"):
        handle.scenario(str(options["scenario"]))


@pytest.fixture
def flux_mock_asgi(request: pytest.FixtureRequest) -> FluxMockASGI:
    """A fresh flux-mock app in process, on a virtual clock that moves only with ``.advance(s)``.

    Use ``async with flux_mock_asgi.client() as api:`` or pass ``flux_mock_asgi.transport`` to your own
    ``httpx.AsyncClient``. No socket is opened, so it is the fastest way to test async client code.
    """
    from contracts.verify.exchanges import AnswerRecorder
    from mock_server import VirtualClock, create_app

    options = _marker(request)
    settings = _settings(request.config, seed=options.get("seed"), public_url=ASGI_BASE_URL)
    recorder = AnswerRecorder(create_app(settings, clock=VirtualClock()))
    handle = FluxMockASGI(recorder.app, recorder, ASGI_BASE_URL, settings.api_keys[0])
    if options.get("scenario"):
        handle.scenario(str(options["scenario"]))
    return handle


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A recording webhook receiver on 127.0.0.1 (`mock_server.WebhookReceiver`); pass ``.url`` as webhookOverride.

    ``.wait_for(n)`` blocks until n webhooks arrived; ``.reply(500, 500)`` scripts its next answers.
    """
    from mock_server import WebhookReceiver

    with WebhookReceiver() as receiver:
        yield receiver


class ReceiverCheck:
    """The `flux_mock_receiver_check` fixture: call it with your receiver; it raises when the receiver breaks
    the delivery contract, and returns the `ReceiverReport` otherwise."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def __call__(
        self,
        target: Any,
        *,
        path: str = "/",
        secret: str | None = None,
        scenarios: Iterable[str] = ("default",),
        ack_timeout_s: float = 10.0,
        allow_hosts: Iterable[str] = (),
    ) -> ReceiverReport:
        """Send `target` the deliveries of `scenarios` and judge every answer (``flux-mock verify-receiver``).

        Args:
            target: your receiver: an ASGI app (Starlette, FastAPI) or a WSGI app (Flask, Django), called in
                process, or the URL of one that is running (loopback, or a host in `allow_hosts`).
            path: where deliveries are posted in an app (ignored for a URL).
            secret: the Standard Webhooks secret your receiver verifies with; also runs the signature scenarios.
            scenarios: names or presets (``default``, ``signature``, ``all``), e.g. ``["all"]``.
            ack_timeout_s: how long each answer may take.
            allow_hosts: hosts besides loopback a URL may name.

        Raises:
            ContractViolation: one failure per broken rule, each with a curl line of what was sent.
            ReceiverError: nothing could be judged (an unknown scenario, a bad secret, nothing listening).
        """
        from contracts.core.failures import raise_for
        from contracts.receiver.run import ReceiverOptions, verify_receiver

        options = ReceiverOptions(
            secret=secret,
            scenarios=tuple(scenarios),
            ack_timeout_s=ack_timeout_s,
            seed=self.seed,
            allow_hosts=tuple(allow_hosts),
        )
        report = verify_receiver(target, options, path=path)
        raise_for(report.failures())
        return report


@pytest.fixture
def flux_mock_receiver_check(request: pytest.FixtureRequest) -> ReceiverCheck:
    """Check your webhook receiver against the delivery contract, in process, in a few lines.

    Example:
        def test_my_receiver(flux_mock_receiver_check):
            flux_mock_receiver_check(my_app, path="/hooks/imaginepro", secret=SECRET, scenarios=["all"])

    The deliveries are the ones ``flux-mock verify-receiver`` sends (seeded by ``--flux-mock-seed``).
    """
    return ReceiverCheck(request.config.getoption("--flux-mock-seed"))
