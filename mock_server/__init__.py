"""flux-mock: an offline, contract-driven twin of ImaginePro's Flux image API.

Names are resolved on first use (PEP 562), so a command imports only what it needs: ``flux-mock --help``
does not build the web app, and ``serve`` does not load the proxy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# First, before anything imports jsonschema: its heavy "iri" format checker then loads on first use.
import mock_server.contract.formats  # noqa: F401
from mock_server.version import __version__

if TYPE_CHECKING:
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
    from mock_server.web.app import create_app
    from mock_server.web.proxy.app import create_proxy_app
    from mock_server.web.proxy.exchange import ProxiedExchange, ProxyOptions

# Public name -> (the submodule that defines it, its name there).
_EXPORTS: dict[str, tuple[str, str]] = {
    "ADMIN_PREFIX": ("contract.spec", "ADMIN_PREFIX"),
    "Clock": ("domain.clock", "Clock"),
    "ConnectionDropped": ("contract.errors", "ConnectionDropped"),
    "HarEntry": ("domain.records.har", "HarEntry"),
    "HarError": ("domain.records.har", "HarError"),
    "HarRecorder": ("domain.records.har", "HarRecorder"),
    "JobNotFound": ("contract.errors", "JobNotFound"),
    "JobPace": ("domain.pacing", "JobPace"),
    "JobStatus": ("domain.lifecycle", "JobStatus"),
    "Journal": ("domain.records.journal", "Journal"),
    "KindPace": ("domain.pacing", "KindPace"),
    "LiveServer": ("run.server", "LiveServer"),
    "MockControl": ("services.control", "MockControl"),
    "MockServerError": ("contract.errors", "MockServerError"),
    "Operations": ("domain.operations", "Operations"),
    "Option": ("config.options", "Option"),
    "Pacing": ("domain.pacing", "Pacing"),
    "ProxiedExchange": ("web.proxy.exchange", "ProxiedExchange"),
    "ProxyOptions": ("web.proxy.exchange", "ProxyOptions"),
    "ReceivedWebhook": ("run.receiver", "ReceivedWebhook"),
    "RecordedJob": ("domain.records.history", "RecordedJob"),
    "RecordedPoll": ("domain.records.history", "RecordedPoll"),
    "Recording": ("domain.records.har", "Recording"),
    "RequestRecorded": ("domain.records.journal", "RequestRecorded"),
    "ScenarioError": ("contract.errors", "ScenarioError"),
    "Settings": ("config.settings", "Settings"),
    "SettingsError": ("contract.errors", "SettingsError"),
    "Spec": ("contract.spec", "Spec"),
    "SpecError": ("contract.errors", "SpecError"),
    "Spread": ("domain.pacing", "Spread"),
    "SystemClock": ("domain.clock", "SystemClock"),
    "UnknownScenario": ("contract.errors", "UnknownScenario"),
    "Violation": ("contract.problems", "Violation"),
    "VirtualClock": ("domain.clock", "VirtualClock"),
    "WebhookAttempted": ("domain.webhooks.journal", "WebhookAttempted"),
    "WebhookReceiver": ("run.receiver", "WebhookReceiver"),
    "WebhookReply": ("run.receiver", "WebhookReply"),
    "WebhookSigner": ("domain.webhooks.signing", "Signer"),
    "cli_values": ("run.options", "cli_values"),
    "click_options": ("run.options", "click_options"),
    "create_app": ("web.app", "create_app"),
    "create_proxy_app": ("web.proxy.app", "create_proxy_app"),
    "load_har": ("domain.records.har", "load_har"),
    "load_spec": ("contract.spec", "load_spec"),
    "option": ("config.options", "option"),
    "read_recording": ("domain.records.har", "read_recording"),
    "recorded_jobs": ("domain.records.history", "recorded_jobs"),
    "serve_proxy": ("run.proxy", "serve_proxy"),
    "setting_option": ("config.settings", "setting_option"),
    "settings_options": ("run.cli", "settings_options"),
    "spec_path": ("contract.spec", "spec_path"),
    "webhook_refusal": ("domain.webhooks.targets", "refusal"),
}


def __getattr__(name: str) -> Any:
    found = _EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mock_server.{found[0]}"), found[1])
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
