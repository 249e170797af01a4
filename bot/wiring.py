"""The one place that builds Faro's parts from :class:`~bot.settings.Settings`.

``faro up``/``faro serve`` (through :func:`bot.app.create_app`) and the CLI
commands that need a part of the app (the database, the broadcaster, the
dialogue core) all build it here, with plain imports. Adding a channel means
writing its package and listing its :class:`~bot.channels.base.ChannelSpec`
in :data:`CHANNELS`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from bot.admin import Grouper, LiveTemplates, OidcConfig, admin_routes, first_start_link
from bot.admin.console import QuestionRates
from bot.broadcast.announce import DetailRenderer, Rendering
from bot.broadcast.compose import Composer
from bot.broadcast.delivery import DeliveryWorker
from bot.broadcast.outbox import Outbox
from bot.broadcast.service import Subscriptions
from bot.broadcast.subscriptions import SubscriptionStore
from bot.broadcast.watcher import Broadcaster
from bot.channels.base import ChannelContext, ChannelParts, ChannelSpec, Renderer
from bot.channels.contact.wiring import chat_contact_offer, subscribe_routes
from bot.channels.email.wiring import EMAIL
from bot.channels.slack import SLACK
from bot.channels.sms.wiring import SMS
from bot.channels.telegram.wiring import TELEGRAM
from bot.channels.web import WEB
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub
from bot.console.groups import UnansweredGroups
from bot.console.templates_db import TemplateDb, TemplateReloader
from bot.db import Database
from bot.dialogue import RasaConversation
from bot.drill.marking import DrillComposer
from bot.faq_service import FaqReloader, FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.api import staff_api_routes
from bot.handoff.chatwoot import ChatwootBridge, ChatwootClient
from bot.handoff.service import AgentChannel, HandoffService, SameVoice
from bot.handoff.slack_notify import HandoffSlackNotifier
from bot.handoff.store import HandoffStore
from bot.handoff.touched import Touched
from bot.handoff.webhook import HandoffWebhook
from bot.privacy import PersonalData, PurgeWorker, retention_of, tracker_urls
from bot.pubsub import ChangeBus
from bot.rasa.client import RasaClient
from bot.rhythm.questions import QuestionLog
from bot.rhythm.review import to_review
from bot.rhythm.runtime import SLACK_API_URL, CrisisRhythm, build_rhythm, rhythm_from
from bot.services import AppServices, Background
from bot.settings import Settings
from bot.status.live import LiveStatus
from bot.status.store import StateStore
from bot.status.times import zone_named
from bot.status.wiring import STATE_FILE, StatusRuntime, build_runtime
from bot.store import AppStore
from bot.templates import TemplateStore
from faq_index import Encoder, EncoderError, load_encoder
from faq_index.batching import BatchingEncoder
from faq_index.encoders import HASHING_MODEL
from faq_index.onnx_encoder import load_onnx_encoder

logger = logging.getLogger(__name__)

# Every channel the app can run; the web chat is always on.
CHANNELS: tuple[ChannelSpec, ...] = (WEB, TELEGRAM, SLACK, EMAIL, SMS)


def renderers() -> Mapping[str, Renderer]:
    """How a broadcast text looks on each channel, by channel name."""
    return {spec.name: spec.render for spec in CHANNELS}


def details(templates: TemplateStore) -> Mapping[str, DetailRenderer]:
    """What else a preview shows on the channels that have more than text (email, SMS)."""
    return {
        spec.name: functools.partial(_detail, spec, templates)
        for spec in CHANNELS
        if spec.detail is not None
    }


def _detail(spec: ChannelSpec, templates: TemplateStore, text: str, lang: str) -> Rendering:
    assert spec.detail is not None
    return spec.detail(text, lang, templates)


def configure_process(settings: Settings) -> None:
    """Process-wide settings of libraries, once at start: torch's thread count when
    torch serves the encoder (with ONNX Runtime, the default, torch is never imported;
    its threads are per session, set by :func:`build_encoder`; nor with the hashing
    encoder)."""
    if not _onnx_serves(settings) and not _hashing(settings):
        _torch_threads(settings)


def _torch_threads(settings: Settings) -> None:
    import torch

    # One intra-op thread per worker: on small shared machines two measured ~6x slower.
    torch.set_num_threads(settings.faq.embedding_threads)


def _onnx_serves(settings: Settings) -> bool:
    """Whether the settings ask for the ONNX runtime (int8 and the hashing encoder do not)."""
    faq = settings.faq
    return faq.embedding_runtime == "onnx" and not faq.embedding_int8 and not _hashing(settings)


def _hashing(settings: Settings) -> bool:
    return (settings.faq.embedding_model or "").split(":", 1)[0] == HASHING_MODEL


def onnx_cache_dir(settings: Settings) -> Path:
    """Where exported ONNX models are cached (beside the embeddings' ``faq`` folder)."""
    return settings.cache_dir / "onnx"


def _shipped_onnx_dir(settings: Settings) -> Path:
    """The export ``scripts/setup`` made with the default data folder: a container
    image's (built at /app, run with FARO_DATA_DIR elsewhere, an empty volume in
    Kubernetes), used read-only so a replica does not export again at each start."""
    return settings.project_dir / ".faro" / "cache" / "onnx"


def open_database(settings: Settings) -> Database:
    """The app database, migrated to this release (raises ``StorageError``, one sentence)."""
    return Database.open(settings.database.url)


def open_store(settings: Settings) -> AppStore:
    """The app's store on the app database (raises ``StorageError``)."""
    return AppStore(open_database(settings).engine)


def load_templates(settings: Settings) -> TemplateStore:
    """The message templates (raises ``TemplateError`` on a bad file)."""
    return TemplateStore.from_paths(settings.template_paths)


def build_encoder(settings: Settings) -> Encoder:
    """The embedding model the settings name (raises ``EncoderError``).

    With ``FARO_EMBEDDING_RUNTIME=onnx`` (the default) a mean-pooled model runs on ONNX
    Runtime (exported on first use when ``scripts/setup`` has not); when that cannot
    be (onnxruntime missing, export failed, another kind of model) it runs on torch,
    after one warning line.
    """
    configure_process(settings)
    faq = settings.faq
    encoder: Encoder | None = None
    if _onnx_serves(settings):
        try:
            encoder = load_onnx_encoder(
                faq.embedding_model,
                onnx_cache_dir(settings),
                threads=faq.embedding_threads,
                shipped=[_shipped_onnx_dir(settings)],
            )
        except EncoderError as exc:
            logger.warning("embedding model on torch, not ONNX Runtime: %s", exc)
            _torch_threads(settings)
    if encoder is None:
        encoder = load_encoder(faq.embedding_model, int8=faq.embedding_int8)
    if faq.embedding_batch <= 1:
        return encoder
    return BatchingEncoder(
        encoder, max_batch=faq.embedding_batch, max_wait_s=faq.embedding_batch_wait_ms / 1000
    )


def prepare_encoder(settings: Settings) -> str:
    """Export the configured model to ONNX ahead of time (``scripts/setup``), so the
    app starts without torch; returns what was done, in one line."""
    if not _onnx_serves(settings):
        return "the embedding model runs on torch (FARO_EMBEDDING_RUNTIME, FARO_EMBEDDING_INT8)"
    encoder = load_onnx_encoder(settings.faq.embedding_model, onnx_cache_dir(settings))
    return f"{encoder.name} on ONNX Runtime: {encoder.folder}"


def build_status(settings: Settings, templates: TemplateStore) -> StatusRuntime:
    """The status feed: live state restored from disk, poller, answers, webhook route."""
    status = settings.status
    runtime = build_runtime(
        feed=status.feed,
        templates=templates,
        state_dir=settings.state_dir,
        poll_interval_s=status.poll_interval_s,
        webhook_token=status.webhook_token,
        display_timezone=status.timezone,
        rhythm=rhythm_from(settings.rhythm, settings.drill),
    )
    logger.info(
        "status feed: %s every %gs", runtime.poller.source.description, status.poll_interval_s
    )
    return runtime


def saved_status(settings: Settings) -> LiveStatus:
    """The last status the app saved (for CLI commands that do not poll)."""
    live = LiveStatus(store=StateStore(settings.state_dir / STATE_FILE))
    live.restore()
    return live


def build_broadcaster(
    settings: Settings, store: AppStore, templates: TemplateStore, live: LiveStatus
) -> Broadcaster:
    """The broadcaster over the app database's subscriptions and outbox."""
    return Broadcaster(
        live=live,
        subscriptions=SubscriptionStore(store.engine),
        outbox=Outbox(store.engine),
        composer=(DrillComposer if settings.drill.on else Composer)(
            templates, tz=zone_named(settings.status.timezone)
        ),
        renderers=renderers(),
        details=details(templates),
    )


def build_crisis_rhythm(
    settings: Settings,
    templates: TemplateStore,
    status: StatusRuntime,
    store: AppStore | None = None,
) -> CrisisRhythm:
    """The overdue guard and the early warning, alerting on the board, Slack and a webhook."""
    return build_rhythm(
        settings.rhythm,
        live=status.live,
        matcher=status.service.matcher,
        templates=templates,
        tz=zone_named(settings.status.timezone),
        slack_token=settings.slack.bot_token,
        slack_api_url=settings.slack.api_url,
        engine=store.engine if store is not None else None,
        drill=settings.drill,
    )


def build_conversation(
    settings: Settings, templates: TemplateStore, handoffs: HandoffService | None = None
) -> tuple[RasaConversation, RasaClient]:
    """The dialogue core every channel talks to, and the Rasa client it uses."""
    rasa = RasaClient(
        urls=settings.rasa.urls,
        timeout_s=settings.rasa.timeout_s,
        api_token=settings.rasa.action_token,
    )
    conversation = RasaConversation(
        rasa=rasa,
        templates=templates,
        max_chars=settings.server.max_message_chars,
        default_lang=settings.server.default_lang,
        handoffs=handoffs,
    )
    return conversation, rasa


def build_services(settings: Settings, *, encoder: Encoder | None = None) -> AppServices:
    """Load templates, FAQ, encoder and status; raises a clear error on bad input."""
    settings.require_secrets()
    if settings.generated_secrets:
        logger.info(
            "one machine: %s kept in %s (set them to share them between replicas)",
            " and ".join(settings.generated_secrets),
            settings.data_dir / "secrets",
        )
    templates = load_templates(settings)
    store = open_store(settings)
    faq_store = FaqStore(store.engine)
    faq = FaqService.from_store(
        faq_store,
        seed_paths=settings.faq.paths,
        encoder=encoder or build_encoder(settings),
        store=store,
        cache_dir=settings.cache_dir / "faq",
    )
    # the console: templates edited live (the database's texts, seeded from the files),
    # unanswered questions grouped by meaning in the background
    live_templates = live_templates_of(settings, store, templates)
    grouper = Grouper(UnansweredGroups(store.engine), faq)
    status = build_status(settings, templates)
    broadcaster = build_broadcaster(settings, store, templates, status.live)
    handoffs = HandoffService(HandoffStore(store.engine), templates)
    rhythm = build_crisis_rhythm(settings, templates, status, store)
    background: list[Background] = [
        status,
        FaqReloader(faq, interval_s=settings.faq.poll_interval_s),
        PurgeWorker(
            personal_data(settings, store),
            retention_of(settings),
            interval_s=settings.privacy.purge_interval_s,
        ),
        rhythm,
        live_templates.reloader,
        grouper,
    ]
    hook = settings.handoff
    if hook.webhook_url and hook.webhook_secret:
        background.append(
            HandoffWebhook(handoffs.store, url=hook.webhook_url, secret=hook.webhook_secret)
        )
    if settings.rhythm.slack_staff_channel and settings.slack.bot_token:
        origin = settings.server.public_origin or ""
        background.append(
            HandoffSlackNotifier(
                handoffs.store,
                AsyncWebClient(
                    token=settings.slack.bot_token,
                    base_url=settings.slack.api_url or SLACK_API_URL,
                ),
                channel=settings.rhythm.slack_staff_channel,
                inbox_url=origin + "/admin/inbox",
            )
        )
    bridge = None
    if hook.chatwoot_url and hook.chatwoot_inbox and hook.chatwoot_token:
        client = ChatwootClient(base_url=hook.chatwoot_url, inbox_identifier=hook.chatwoot_inbox)
        bridge = ChatwootBridge(handoffs, client, webhook_token=hook.chatwoot_token)
        background.append(bridge)
    routes = [
        *status.routes,
        *admin_routes(
            password=settings.admin.password,
            token=settings.admin.token,
            session_secret=settings.web.session_secret,
            faq_store=faq_store,
            faq=faq,
            app_store=store,
            broadcaster=broadcaster,
            handoffs=handoffs,
            status=status.service,
            alerts=rhythm.board,
            oidc=oidc_config(settings),
            review=lambda: to_review(
                status.live.snapshot,
                matcher=status.service.matcher,
                entries=faq.index.entries,
                templates={k: templates.texts(k) for k in templates.keys()},  # noqa: SIM118
            ),
            snapshot=lambda: status.live.snapshot,
            questions=rhythm.questions,
            grouper=grouper,
            templates=live_templates,
            renderers=renderers(),
            question_rates=question_rates(rhythm.questions, grouper),
        ),
        *staff_api_routes(
            service=handoffs,
            token=settings.admin.token,
            touched=Touched(store.engine, faq=faq, faq_store=faq_store, live=status.live),
            privacy=personal_data(settings, store),
        ),
        *(bridge.routes() if bridge else []),
    ]
    services = AppServices(
        settings=settings,
        templates=templates,
        store=store,
        faq=faq,
        status=status.service,
        subscriptions=Subscriptions(
            broadcaster.subscriptions,
            templates=templates,
            live=status.live,
            matcher=status.service.matcher,
            contact=chat_contact_offer(settings, templates),
        ),
        broadcaster=broadcaster,
        handoffs=handoffs,
        rhythm=rhythm,
        background=background,
        routes=routes,
    )
    # email and SMS subscriptions: POST /api/subscribe and the hosted /subscribe pages
    routes.extend(subscribe_routes(settings, services))
    # the staff console's first start (no admin can sign in yet): print a one-time link
    if not (settings.admin.password or settings.admin.token):
        services.console_link = first_start_link(store, console_origin(settings))
    return services


def oidc_config(settings: Settings) -> OidcConfig | None:
    """The console's single sign-on, when its issuer, client id and secret are all set."""
    a = settings.admin
    if not (a.oidc_issuer and a.oidc_client_id and a.oidc_client_secret):
        return None
    return OidcConfig(
        issuer=a.oidc_issuer,
        client_id=a.oidc_client_id,
        client_secret=a.oidc_client_secret,
        roles_claim=a.oidc_roles_claim,
        default_role=a.oidc_default_role,
    )


def console_origin(settings: Settings) -> str:
    """Where people reach the app: FARO_PUBLIC_ORIGIN, else http://host:port."""
    if settings.server.public_origin:
        return settings.server.public_origin
    host = settings.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - comparing only
    return f"http://{shown}:{settings.server.port}"


def live_templates_of(
    settings: Settings, store: AppStore, templates: TemplateStore
) -> LiveTemplates:
    """Seed the database with new templates from the files, and serve the database's texts."""
    db = TemplateDb.from_paths(store.engine, settings.template_paths)
    db.seed()
    reloader = TemplateReloader(db, templates, interval_s=settings.faq.poll_interval_s)
    reloader.refresh()
    return LiveTemplates(store=templates, db=db, reloader=reloader)


def personal_data(settings: Settings, store: AppStore) -> PersonalData:
    """Customers' data across the app database and Rasa's tracker stores (every table defined)."""
    return PersonalData(store.engine, tracker_urls=tracker_urls(settings))


def build_web_push(services: AppServices) -> PushHub:
    """The hub that stores and pushes messages to open widgets."""
    return PushHub(WebHistory(services.store.engine), poll_s=services.settings.web.push_poll_s)


def build_channels(context: ChannelContext) -> list[ChannelParts]:
    """Every configured channel's parts (a channel that is off says so once in the log)."""
    return [parts for spec in CHANNELS if (parts := spec.build(context)) is not None]


def delivery_worker(services: AppServices, channels: list[ChannelParts]) -> DeliveryWorker:
    """The outbox worker sending broadcasts through each running channel's deliverer."""
    broadcaster = services.broadcaster
    deliverers = [c.deliverer for c in channels if c.deliverer is not None]
    worker = DeliveryWorker(broadcaster.outbox, broadcaster.subscriptions, deliverers)
    broadcaster.on_created = worker.wake
    return worker


def connect_handoffs(services: AppServices, channels: list[ChannelParts]) -> None:
    """Agent replies and notices go out through each running channel's sender."""
    if services.handoffs is None:
        return
    senders: dict[str, AgentChannel] = {}
    for parts in channels:
        if parts.agent is not None and parts.deliverer is not None:
            senders[parts.deliverer.channel] = parts.agent
        elif parts.deliverer is not None:
            senders[parts.deliverer.channel] = SameVoice(parts.deliverer)
    services.handoffs.use_channels(senders)


def change_bus(
    services: AppServices, web_push: PushHub, worker: DeliveryWorker
) -> ChangeBus | None:
    """Redis pub/sub between app replicas (``FARO_REDIS_URL``), wired to what it wakes:
    FAQ edits, widget pushes and the banner, status changes, due broadcasts. None when
    Redis is not configured (one replica, or the database polls alone)."""
    scale = services.settings.scale_out
    if not scale.redis_url:
        return None
    bus = ChangeBus(scale.redis_url, channel=scale.redis_channel)
    for task in services.background:
        if isinstance(task, FaqReloader):
            bus.on("faq", task.wake)
        if isinstance(task, StatusRuntime):
            bus.on("status", _poll_now(task))
            task.live.subscribe(lambda _snapshot: bus.publish("status"))
    services.faq.on_change = lambda revision: bus.publish("faq", str(revision))
    web_push.on_publish = lambda target: bus.publish("push", target)
    bus.on("push", web_push.wake_for)
    created = services.broadcaster.on_created

    def on_created() -> None:
        created()
        bus.publish("outbox")

    services.broadcaster.on_created = on_created
    bus.on("outbox", lambda _payload: worker.wake())
    return bus


def _poll_now(status: StatusRuntime) -> Callable[[str], None]:
    """Poll the status feed now (another replica saw it change), at most once a second."""
    last = [0.0]
    tasks: set[asyncio.Task[bool]] = set()

    def poll(_payload: str) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0:
            return
        last[0] = now
        task = asyncio.get_running_loop().create_task(status.poller.poll_once())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    return poll


__all__ = [
    "CHANNELS",
    "build_broadcaster",
    "build_channels",
    "build_conversation",
    "build_crisis_rhythm",
    "build_encoder",
    "build_services",
    "build_status",
    "change_bus",
    "configure_process",
    "connect_handoffs",
    "delivery_worker",
    "live_templates_of",
    "load_templates",
    "open_database",
    "onnx_cache_dir",
    "open_store",
    "prepare_encoder",
    "renderers",
    "saved_status",
]


def question_rates(log: QuestionLog | None, grouper: Grouper) -> QuestionRates:
    """The dashboard's questions per minute: every customer question, by topic, from the
    question log; without it, the unanswered ones by their group's nearest entry."""
    if log is None:
        return grouper.groups.per_minute
    return lambda since: log.per_minute(since=since)
