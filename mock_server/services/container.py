"""The services one mock server owns, built once by `create_app` and shared by routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_server.config.settings import Settings
from mock_server.contract.spec import Spec
from mock_server.domain.accounts import DiscordTokens
from mock_server.domain.clock import Clock
from mock_server.domain.credits import Credits
from mock_server.domain.jobs import JobStore
from mock_server.domain.media.images import ImageCache
from mock_server.domain.media.video import VideoCache
from mock_server.domain.messages import render_message
from mock_server.domain.operations import Operations
from mock_server.domain.pacing import Pacing, load_pacing
from mock_server.domain.ratelimit import RateLimiter
from mock_server.domain.records.journal import Journal, mask_key
from mock_server.domain.scenarios.engine import ScenarioEngine
from mock_server.domain.scenarios.file import load_rules
from mock_server.domain.stores.base import Store
from mock_server.domain.stores.memory import MemoryStore
from mock_server.domain.validation import SchemaValidator
from mock_server.services.scheduler import Scheduler
from mock_server.services.webhooks.service import WebhookService


@dataclass(slots=True)
class Services:
    """Everything with state in one server: settings, clock, contract, jobs, journal, images, scenarios, credits."""

    settings: Settings
    clock: Clock
    spec: Spec
    jobs: JobStore  # this worker's jobs: all of them in memory, a cache of the shared ones with --store redis
    store: Store  # where state lives: every read and change the HTTP layer makes goes through it
    journal: Journal
    images: ImageCache
    videos: VideoCache
    scenarios: ScenarioEngine
    credits: Credits
    limiter: RateLimiter
    scheduler: Scheduler  # timers on the mock's clock (fires on real time and on clock jumps)
    webhooks: WebhookService
    operations: Operations  # what each request is, from the spec's x-mock-kind
    tokens: DiscordTokens  # the DIY plan's linked Discord tokens
    pacing: Pacing = field(default_factory=Pacing)  # --pace-from: recorded queue and run times per job kind
    validators: dict[str, SchemaValidator] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # room for services added by later layers

    @classmethod
    def build(cls, settings: Settings, clock: Clock, spec: Spec) -> Services:
        """Wire the services and compile one validator per request body and path parameter."""
        validators: dict[str, SchemaValidator] = {}
        for op in spec.operations.values():
            if op.request_schema is not None:
                validators[op.operation_id] = SchemaValidator(op.request_schema, location="body")
            for name, schema in op.path_parameters.items():
                validators[f"{op.operation_id}:{name}"] = SchemaValidator(schema, location="path", name=name)
            for name, schema in op.query_parameters.items():
                validators[f"{op.operation_id}:{name}"] = SchemaValidator(schema, location="query", name=name)
        svc: Services
        scheduler = Scheduler(clock)
        jobs = JobStore(
            clock,
            seed=settings.seed,
            concurrency=settings.concurrency,
            ttl=settings.job_ttl,
            max_jobs=settings.max_jobs,
        )
        # The webhook body is rendered by the same function as GET progress, so both are byte-for-byte equal.
        webhooks = WebhookService(settings, clock, scheduler, lambda job, at: render_message(svc, job, at))
        jobs.listeners.append(webhooks.track)
        journal = Journal(settings.journal_size, show_keys=settings.show_keys == "full")
        credits, limiter = Credits(settings.credits), RateLimiter(clock)
        engine = ScenarioEngine(
            seed=settings.seed,
            default=settings.scenario,
            file_rules=load_rules(settings.scenarios_file) if settings.scenarios_file else None,
        )
        operations = Operations(spec)
        pacing = load_pacing(settings.pace_from, operations, seed=settings.seed) if settings.pace_from else Pacing()
        store: Store
        if settings.store == "memory":
            store = MemoryStore(jobs, credits, limiter, journal, webhooks.journal)
        else:
            from mock_server.services.stores.redis import RedisStore

            store = RedisStore(settings, jobs, clock, engine, credits, limiter, journal, webhooks.journal)
            webhooks.use_outbox(store.outbox)
        svc = cls(
            settings=settings,
            clock=clock,
            spec=spec,
            jobs=jobs,
            store=store,
            journal=journal,
            images=ImageCache(),
            videos=VideoCache(),
            scenarios=engine,
            credits=credits,
            limiter=limiter,
            scheduler=scheduler,
            webhooks=webhooks,
            operations=operations,
            tokens=DiscordTokens(),
            pacing=pacing,
            validators=validators,
        )
        return svc

    @property
    def image_path(self) -> str:
        """Where finished images are served (the spec's ``info.x-mock-downloads``)."""
        return self.operations.image_path

    def shown_key(self, key: str | None) -> str | None:
        """An API key as the admin API and the console show it (masked unless ``--show-keys full``)."""
        return key if self.settings.show_keys == "full" else mask_key(key)

    def validator(self, key: str) -> SchemaValidator:
        """The compiled validator for an operation body (`operationId`) or a path parameter (`operationId:name`)."""
        return self.validators[key]
