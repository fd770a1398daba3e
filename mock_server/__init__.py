"""flux-mock: an offline, contract-driven twin of ImaginePro's Flux image API."""

from __future__ import annotations

from .app import create_app
from .clock import Clock, SystemClock, VirtualClock
from .errors import JobNotFound, MockServerError, SettingsError, SpecError, UnknownScenario
from .journal import Journal, RequestRecorded
from .lifecycle import JobStatus
from .problems import Violation
from .services import Services
from .settings import Settings
from .spec import Spec, load_spec, spec_path
from .webhooks import ReceivedWebhook, WebhookAttempted, WebhookReceiver, WebhookReply

__version__ = "0.1.0"

__all__ = [
    # app
    "Services",
    "Settings",
    "create_app",
    # time
    "Clock",
    "SystemClock",
    "VirtualClock",
    # contract
    "Spec",
    "load_spec",
    "spec_path",
    # domain
    "JobStatus",
    "Journal",
    "RequestRecorded",
    "Violation",
    # webhooks
    "ReceivedWebhook",
    "WebhookAttempted",
    "WebhookReceiver",
    "WebhookReply",
    # errors
    "JobNotFound",
    "MockServerError",
    "SettingsError",
    "SpecError",
    "UnknownScenario",
    "__version__",
]
