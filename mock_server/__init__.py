"""flux-mock: an offline, contract-driven twin of ImaginePro's Flux image API."""

from __future__ import annotations

from .app import create_app
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
from .journal import Journal, RequestRecorded
from .lifecycle import JobStatus
from .problems import Violation
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
    "JobNotFound",
    # domain
    "JobStatus",
    "Journal",
    "LiveServer",
    "MockControl",
    "MockServerError",
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
    "load_spec",
    "spec_path",
]
