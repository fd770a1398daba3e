"""flux-mock: an offline, contract-driven twin of ImaginePro's Flux image API."""

from __future__ import annotations

from .app import create_app
from .cli import settings_from_cli, settings_options
from .clock import Clock, SystemClock, VirtualClock
from .control import MockControl
from .errors import (
    ConnectionDropped,
    JobNotFound,
    MockServerError,
    ScenarioError,
    SettingsError,
    SpecError,
    UnknownScenario,
)
from .har import HarEntry, HarError, HarRecorder, load_har
from .journal import Journal, RequestRecorded
from .lifecycle import JobStatus
from .problems import Violation
from .proxy.app import create_proxy_app
from .proxy.exchange import ProxiedExchange, ProxyOptions
from .proxy.serve import serve_proxy
from .server import LiveServer
from .services import Services
from .settings import Settings
from .spec import Spec, load_spec, spec_path
from .version import __version__
from .webhooks import ReceivedWebhook, WebhookAttempted, WebhookReceiver, WebhookReply

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
