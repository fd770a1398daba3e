"""flux-mock: an offline, contract-driven twin of ImaginePro's Flux image API."""

from __future__ import annotations

# First, before anything imports jsonschema: its heavy "iri" format checker then loads on first use.
import mock_server.contract.formats  # noqa: F401
from mock_server.config.options import Option, option
from mock_server.config.settings import Settings, setting_option
from mock_server.contract.errors import (
    ConnectionDropped,
    JobNotFound,
    MockServerError,
    ScenarioError,
    SettingsError,
    SpecError,
    UnknownScenario,
)
from mock_server.contract.problems import Violation
from mock_server.contract.spec import ADMIN_PREFIX, Spec, load_spec, spec_path
from mock_server.domain.clock import Clock, SystemClock, VirtualClock
from mock_server.domain.lifecycle import JobStatus
from mock_server.domain.operations import Operations
from mock_server.domain.pacing import JobPace, KindPace, Pacing, Spread
from mock_server.domain.records.har import HarEntry, HarError, HarRecorder, Recording, load_har, read_recording
from mock_server.domain.records.history import RecordedJob, RecordedPoll, recorded_jobs
from mock_server.domain.records.journal import Journal, RequestRecorded
from mock_server.domain.webhooks.journal import WebhookAttempted
from mock_server.domain.webhooks.signing import Signer as WebhookSigner
from mock_server.domain.webhooks.targets import refusal as webhook_refusal
from mock_server.run.cli import settings_options
from mock_server.run.options import cli_values, click_options
from mock_server.run.proxy import serve_proxy
from mock_server.run.receiver import ReceivedWebhook, WebhookReceiver, WebhookReply
from mock_server.run.server import LiveServer
from mock_server.services.control import MockControl
from mock_server.version import __version__
from mock_server.web.app import create_app
from mock_server.web.proxy.app import create_proxy_app
from mock_server.web.proxy.exchange import ProxiedExchange, ProxyOptions

__all__ = [
    "ADMIN_PREFIX",
    "Clock",
    "ConnectionDropped",
    "HarEntry",
    "HarError",
    "HarRecorder",
    "JobNotFound",
    "JobPace",
    "JobStatus",
    "Journal",
    "KindPace",
    "LiveServer",
    "MockControl",
    "MockServerError",
    "Operations",
    "Option",
    "Pacing",
    "ProxiedExchange",
    "ProxyOptions",
    "ReceivedWebhook",
    "RecordedJob",
    "RecordedPoll",
    "Recording",
    "RequestRecorded",
    "ScenarioError",
    "Settings",
    "SettingsError",
    "Spec",
    "SpecError",
    "Spread",
    "SystemClock",
    "UnknownScenario",
    "Violation",
    "VirtualClock",
    "WebhookAttempted",
    "WebhookReceiver",
    "WebhookReply",
    "WebhookSigner",
    "__version__",
    "cli_values",
    "click_options",
    "create_app",
    "create_proxy_app",
    "load_har",
    "load_spec",
    "option",
    "read_recording",
    "recorded_jobs",
    "serve_proxy",
    "setting_option",
    "settings_options",
    "spec_path",
    "webhook_refusal",
]
