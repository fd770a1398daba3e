"""flux-mock: an offline, contract-driven twin of ImaginePro's Flux image API."""

from __future__ import annotations

from mock_server.app import create_app
from mock_server.cli import settings_from_cli, settings_options
from mock_server.clock import Clock, SystemClock, VirtualClock
from mock_server.control import MockControl
from mock_server.errors import ConnectionDropped, JobNotFound, MockServerError, ScenarioError, SettingsError, SpecError, UnknownScenario
from mock_server.har import HarEntry, HarError, HarRecorder, load_har
from mock_server.journal import Journal, RequestRecorded
from mock_server.lifecycle import JobStatus
from mock_server.problems import Violation
from mock_server.proxy.app import create_proxy_app
from mock_server.proxy.exchange import ProxiedExchange, ProxyOptions
from mock_server.proxy.serve import serve_proxy
from mock_server.server import LiveServer
from mock_server.services import Services
from mock_server.settings import Settings
from mock_server.spec import Spec, load_spec, spec_path
from mock_server.version import __version__
from mock_server.webhooks import ReceivedWebhook, WebhookAttempted, WebhookReceiver, WebhookReply

__all__ = [
    # time
    "Clock",
    "ConnectionDropped",
    # errors
    "HarEntry",
    "HarError",
    "HarRecorder",
    "JobNotFound",
    # domain
    "JobStatus",
    "Journal",
    "LiveServer",
    "MockControl",
    "MockServerError",
    "ProxiedExchange",
    "ProxyOptions",
    "ReceivedWebhook",
    "RequestRecorded",
    "ScenarioError",
    # app
    "Services",
    "Settings",
    "SettingsError",
    # contract
    "Spec",
    "SpecError",
    "SystemClock",
    "UnknownScenario",
    "Violation",
    "VirtualClock",
    "WebhookAttempted",
    "WebhookReceiver",
    "WebhookReply",
    "__version__",
    "create_app",
    "create_proxy_app",
    "load_har",
    "load_spec",
    "serve_proxy",
    "settings_from_cli",
    "settings_options",
    "spec_path",
]
