"""One settings object per process, read from the environment at start.

Every ``FARO_*`` variable is read here and nowhere else; libraries and
services take what they need as parameters. Settings are grouped in one
section per boundary (``settings.rasa``, ``settings.web``, ...).

Every setting has an embedded default that runs on one machine with no
services and no tokens. Secrets come only from the environment (or, on the
embedded default, from a file generated once in the data folder) and are
never logged or shown in ``repr``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.core.languages import LANGUAGES

logger = logging.getLogger(__name__)

__all__ = ["Settings", "SettingsError"]

# Shared secrets every process of one deployment must agree on.
_SECRETS = {
    "FARO_ACTION_TOKEN": "the token Rasa sends to the action endpoint",
    "FARO_SESSION_SECRET": "the key that signs web chat and admin sessions",
}


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """Where the app listens and what every channel shares."""

    host: str = "127.0.0.1"
    port: int = 8000
    max_message_chars: int = 1000
    default_lang: str = "en"
    # The origin visitors use (https://help.example.com); unset: the request's own
    # scheme and Host (fine on one machine; set it in production).
    public_origin: str | None = None
    # Reverse proxies (IPs or networks) whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RasaSettings:
    """The Rasa servers the app talks to, and how ``faro up`` runs them."""

    urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    timeout_s: float = 10.0
    action_token: str = field(repr=False)
    rasa_bin: Path
    endpoints: str = "endpoints.yml"
    replicas: int | None = None  # None: one per core, at most two


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    """The app database (SQLite by default, PostgreSQL for scale-out)."""

    url: str = field(repr=False)  # may hold a password

    @property
    def shared(self) -> bool:
        """True when the database is a server that several app replicas may share."""
        return make_url(self.url).get_backend_name() != "sqlite"


@dataclass(frozen=True, kw_only=True)
class FaqSettings:
    """The answer center: seed files, embedding model, change polling."""

    paths: tuple[Path, ...]
    embedding_model: str | None = None  # None: the packaged all-MiniLM-L6-v2
    embedding_int8: bool = False  # int8 cost quality (issue 13): opt-in
    # "onnx": mean-pooled models (the default MiniLM) run through ONNX Runtime, with no
    # torch in the app process (issue 17); "torch": sentence-transformers as before.
    # int8 and other models stay on torch.
    embedding_runtime: str = "onnx"
    embedding_threads: int = 1  # intra-op threads of this process (ONNX Runtime or torch)
    # Questions asked at the same time are embedded together, up to this many
    # (1: each alone), waiting at most batch_wait_ms for company under load.
    embedding_batch: int = 32
    embedding_batch_wait_ms: float = 2.0
    poll_interval_s: float = 1.0


@dataclass(frozen=True, kw_only=True)
class StatusSettings:
    """The incident status source."""

    feed: str
    poll_interval_s: float = 30.0
    webhook_token: str | None = field(default=None, repr=False)
    timezone: str = "UTC"  # how times are shown to customers


@dataclass(frozen=True, kw_only=True)
class RhythmSettings:
    """The crisis rhythm: update cadence per impact (0: none), staff alerts, early warning."""

    critical_minutes: int = 30
    major_minutes: int = 30
    minor_minutes: int = 60
    grace_minutes: int = 2
    check_interval_s: float = 15.0
    alert_webhook_url: str | None = field(default=None, repr=False)
    slack_staff_channel: str | None = None
    surge_window_s: int = 120
    surge_baseline_minutes: int = 60
    surge_min_count: int = 20
    surge_min_ratio: float = 3.0
    surge_p_value: float = 1e-6


@dataclass(frozen=True, kw_only=True)
class DrillSettings:
    """A drill process (``faro drill run`` sets it): every reply is marked as a drill."""

    on: bool = False
    # the replay's speed and the recorded incident's first update (the rhythm compressed)
    speed: float = 1.0
    origin: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """The website chat widget's API."""

    session_secret: str = field(repr=False)
    allowed_origins: tuple[str, ...] | None = None  # None: own origin + localhost
    rate_per_session: int = 20  # messages per minute
    rate_per_ip: int = 120  # requests per minute
    push_poll_s: float = 5.0  # one fallback read per process (other replicas)
    max_streams: int = 2000  # open live streams per app process, all visitors together
    session_idle_days: int = 30  # a widget session unused this long has ended (rolling)


@dataclass(frozen=True, kw_only=True)
class AdminSettings:
    """The staff console's bootstrap secrets (unset: the admin is off)."""

    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    # optional single sign-on (OpenID Connect): on when issuer, client id and secret are set
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_roles_claim: str = "roles"
    oidc_default_role: str = "viewer"  # "none": refuse a sign-in without a role claim


@dataclass(frozen=True, kw_only=True)
class HandoffSettings:
    """Handoffs to a person: the outgoing webhook on handoff events (off when unset)."""

    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    # the Chatwoot bridge (off unless all three are set)
    chatwoot_url: str | None = None
    chatwoot_inbox: str | None = field(default=None, repr=False)
    chatwoot_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class SlackSettings:
    """Slack (off unless a bot token and a signing secret or app token are set)."""

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    staff_users: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PrivacySettings:
    """How long customers' data is kept, and where Rasa keeps its conversations."""

    conversations_days: int = 90  # web chat, Rasa's tracker, who asked about what
    unanswered_days: int = 180  # questions the FAQ could not answer
    deliveries_days: int = 90  # the delivery audit (outbox rows sent, failed or retired)
    left_subscribers_days: int = 30  # subscriptions ended
    purge_interval_s: float = 3600.0
    # Rasa's tracker store when it is not the embedded SQLite files (e.g. PostgreSQL)
    tracker_url: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class TelegramSettings:
    """Telegram (off unless a bot token is set)."""

    token: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    api_url: str = "https://api.telegram.org"


@dataclass(frozen=True, kw_only=True)
class EmailSettings:
    """Email updates over SMTP (off unless ``FARO_SMTP_URL`` and ``FARO_EMAIL_FROM`` are set)."""

    host: str | None = None
    port: int = 25
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    tls: bool = False  # smtps:// (implicit TLS); smtp:// upgrades with STARTTLS when offered
    sender: str | None = None  # the From address
    rate_per_s: float = 10.0  # messages per second to the SMTP server
    # bearer token of POST /email/bounces (DSNs mailed back later); None: the route is off
    bounce_token: str | None = field(default=None, repr=False)

    @property
    def enabled(self) -> bool:
        """True when a server and a From address are set."""
        return bool(self.host and self.sender)


@dataclass(frozen=True, kw_only=True)
class SmsSettings:
    """SMS updates through Twilio's Messages API (off unless sid, token and From are set)."""

    account_sid: str | None = None
    auth_token: str | None = field(default=None, repr=False)
    sender: str | None = None  # FARO_TWILIO_FROM: a number in E.164 form (or a sender id)
    api_url: str = "https://api.twilio.com"
    rate_per_s: float = 1.0  # Twilio queues one message per second on a long code

    @property
    def enabled(self) -> bool:
        """True when the account, its token and a From number are set."""
        return bool(self.account_sid and self.auth_token and self.sender)


@dataclass(frozen=True, kw_only=True)
class ContactSettings:
    """Email and SMS subscriptions: public links and limits on subscribe requests."""

    public_url: str = "http://127.0.0.1:8000"  # where links in emails and SMS point
    rate_per_ip: int = 10  # subscribe requests per minute per client IP
    rate_per_address: int = 3  # confirmations sent per address per hour
    confirm_ttl_s: float = 48 * 3600.0  # how long a confirmation link or code works


@dataclass(frozen=True, kw_only=True)
class ScaleOutSettings:
    """Several app replicas: Redis pub/sub between them (unset: the database polls alone)."""

    redis_url: str | None = field(default=None, repr=False)  # may carry a password
    redis_channel: str = "faro:changes"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Configuration of the app process (see README, "Configuration")."""

    project_dir: Path
    data_dir: Path
    server: ServerSettings
    rasa: RasaSettings
    database: DatabaseSettings
    faq: FaqSettings
    template_paths: tuple[Path, ...]
    status: StatusSettings
    web: WebSettings
    rhythm: RhythmSettings = field(default_factory=RhythmSettings)
    drill: DrillSettings = field(default_factory=DrillSettings)
    admin: AdminSettings
    slack: SlackSettings
    telegram: TelegramSettings
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    contact: ContactSettings = field(default_factory=ContactSettings)
    scale_out: ScaleOutSettings = field(default_factory=ScaleOutSettings)
    # names of shared secrets this process generated (embedded default only)
    generated_secrets: tuple[str, ...] = ()

    @property
    def cache_dir(self) -> Path:
        """Where built indexes and embeddings are cached."""
        return self.data_dir / "cache"

    @property
    def state_dir(self) -> Path:
        """Where the app persists small state files (last known status, ...)."""
        return self.data_dir / "state"

    def require_secrets(self) -> None:
        """Fail unless the shared secrets are there (settings read with ``secrets=False``)."""
        if not self.rasa.action_token or not self.web.session_secret:
            raise SettingsError(
                "FARO_ACTION_TOKEN / FARO_SESSION_SECRET: these settings were read without "
                "the shared secrets, which serving needs"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, secrets: bool = True) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``); fail naming the variable.

        ``secrets=False`` is for commands that serve nothing (FAQ import, announcements):
        unset shared secrets stay empty, are not generated and are not required.
        """
        env = os.environ if env is None else env
        project = Path(env.get("FARO_PROJECT_DIR") or Path.cwd()).resolve()
        data_dir = _path(project, env.get("FARO_DATA_DIR", ".faro"))
        database = DatabaseSettings(
            url=_database_url(env.get("FARO_DATABASE_URL") or f"sqlite:///{data_dir / 'faro.db'}")
        )
        if secrets:
            shared, generated = _secrets(env, data_dir, shared=database.shared)
        else:
            shared, generated = {name: env.get(name) or "" for name in _SECRETS}, ()
        return cls(
            project_dir=project,
            data_dir=data_dir,
            server=ServerSettings(
                host=env.get("FARO_HOST", "127.0.0.1"),
                port=_int(env, "FARO_PORT", 8000, lo=0, hi=65535),
                max_message_chars=_int(env, "FARO_MAX_MESSAGE_CHARS", 1000, lo=10, hi=100_000),
                default_lang=_lang(env.get("FARO_DEFAULT_LANG", "en")),
                public_origin=_public_origin(env.get("FARO_PUBLIC_ORIGIN")),
                trusted_proxies=_networks(env.get("FARO_TRUSTED_PROXIES")),
            ),
            rasa=RasaSettings(
                urls=_rasa_urls(
                    env.get("FARO_RASA_URLS") or env.get("FARO_RASA_URL", "http://127.0.0.1:5005")
                ),
                timeout_s=_float(env, "FARO_RASA_TIMEOUT", 10.0),
                action_token=shared["FARO_ACTION_TOKEN"],
                rasa_bin=_path(project, env.get("FARO_RASA_BIN") or ".venv-rasa/bin/rasa"),
                endpoints=env.get("FARO_RASA_ENDPOINTS") or "endpoints.yml",
                replicas=_optional_int(env, "FARO_RASA_REPLICAS", lo=1, hi=16),
            ),
            database=database,
            faq=FaqSettings(
                paths=_paths(project, env.get("FARO_FAQ", "data/faq")),
                embedding_model=env.get("FARO_EMBEDDING_MODEL") or None,
                embedding_int8=_bool(env, "FARO_EMBEDDING_INT8", False),
                embedding_runtime=_choice(env, "FARO_EMBEDDING_RUNTIME", ("onnx", "torch")),
                embedding_threads=_int(env, "FARO_EMBEDDING_THREADS", 1, lo=1, hi=256),
                embedding_batch=_int(env, "FARO_EMBEDDING_BATCH", 32, lo=1, hi=1024),
                embedding_batch_wait_ms=_float(env, "FARO_EMBEDDING_BATCH_WAIT_MS", 2.0),
                poll_interval_s=_float(env, "FARO_FAQ_POLL_INTERVAL", 1.0),
            ),
            template_paths=_paths(project, env.get("FARO_TEMPLATES", "data/templates")),
            status=StatusSettings(
                feed=_feed(project, env.get("FARO_STATUS_FEED", "data/status/sample.json")),
                poll_interval_s=_float(env, "FARO_STATUS_POLL_INTERVAL", 30.0),
                webhook_token=env.get("FARO_STATUS_WEBHOOK_TOKEN") or None,
                timezone=_timezone(env.get("FARO_STATUS_TIMEZONE") or "UTC"),
            ),
            rhythm=RhythmSettings(
                critical_minutes=_int(env, "FARO_RHYTHM_CRITICAL_MINUTES", 30, lo=0, hi=1440),
                major_minutes=_int(env, "FARO_RHYTHM_MAJOR_MINUTES", 30, lo=0, hi=1440),
                minor_minutes=_int(env, "FARO_RHYTHM_MINOR_MINUTES", 60, lo=0, hi=1440),
                grace_minutes=_int(env, "FARO_RHYTHM_GRACE_MINUTES", 2, lo=0, hi=120),
                check_interval_s=_float(env, "FARO_RHYTHM_CHECK_INTERVAL", 15.0),
                alert_webhook_url=_http_url(env, "FARO_STAFF_ALERT_WEBHOOK_URL", None),
                slack_staff_channel=env.get("FARO_SLACK_STAFF_CHANNEL") or None,
                surge_window_s=_int(env, "FARO_SURGE_WINDOW_SECONDS", 120, lo=10, hi=3600),
                surge_baseline_minutes=_int(env, "FARO_SURGE_BASELINE_MINUTES", 60, lo=5, hi=10080),
                surge_min_count=_int(env, "FARO_SURGE_MIN_COUNT", 20, lo=2, hi=100_000),
                surge_min_ratio=_float(env, "FARO_SURGE_MIN_RATIO", 3.0),
                surge_p_value=_float(env, "FARO_SURGE_P_VALUE", 1e-6),
            ),
            drill=DrillSettings(
                on=_bool(env, "FARO_DRILL", False),
                speed=_float(env, "FARO_DRILL_SPEED", 1.0),
                origin=_drill_origin(env.get("FARO_DRILL_ORIGIN")),
            ),
            web=WebSettings(
                session_secret=shared["FARO_SESSION_SECRET"],
                allowed_origins=_origins(env.get("FARO_WEB_ALLOWED_ORIGINS")),
                rate_per_session=_int(env, "FARO_WEB_RATE_PER_SESSION", 20, lo=1, hi=100_000),
                rate_per_ip=_int(env, "FARO_WEB_RATE_PER_IP", 120, lo=1, hi=1_000_000),
                push_poll_s=_float(env, "FARO_WEB_PUSH_POLL", 5.0),
                max_streams=_int(env, "FARO_WEB_MAX_STREAMS", 2000, lo=1, hi=1_000_000),
                session_idle_days=_int(env, "FARO_WEB_SESSION_IDLE_DAYS", 30, lo=1, hi=3650),
            ),
            admin=AdminSettings(
                password=env.get("FARO_ADMIN_PASSWORD") or None,
                token=env.get("FARO_ADMIN_TOKEN") or None,
                oidc_issuer=env.get("FARO_OIDC_ISSUER") or None,
                oidc_client_id=env.get("FARO_OIDC_CLIENT_ID") or None,
                oidc_client_secret=env.get("FARO_OIDC_CLIENT_SECRET") or None,
                oidc_roles_claim=env.get("FARO_OIDC_ROLES_CLAIM") or "roles",
                oidc_default_role=_oidc_role(env.get("FARO_OIDC_DEFAULT_ROLE")),
            ),
            slack=SlackSettings(
                bot_token=env.get("FARO_SLACK_BOT_TOKEN") or None,
                signing_secret=env.get("FARO_SLACK_SIGNING_SECRET") or None,
                app_token=env.get("FARO_SLACK_APP_TOKEN") or None,
                api_url=_http_url(env, "FARO_SLACK_API_URL", None, slash=True),
                staff_users=tuple(
                    u.strip() for u in env.get("FARO_SLACK_STAFF_USERS", "").split(",") if u.strip()
                ),
            ),
            telegram=TelegramSettings(
                token=env.get("FARO_TELEGRAM_TOKEN") or None,
                secret=_telegram_secret(env.get("FARO_TELEGRAM_SECRET") or None),
                api_url=_http_url(env, "FARO_TELEGRAM_API_URL", "https://api.telegram.org")
                or "https://api.telegram.org",
            ),
            handoff=_handoff(env),
            privacy=PrivacySettings(
                conversations_days=_int(env, "FARO_RETAIN_CONVERSATIONS_DAYS", 90, lo=1, hi=36500),
                unanswered_days=_int(env, "FARO_RETAIN_UNANSWERED_DAYS", 180, lo=1, hi=36500),
                deliveries_days=_int(env, "FARO_RETAIN_DELIVERIES_DAYS", 90, lo=1, hi=36500),
                left_subscribers_days=_int(
                    env, "FARO_RETAIN_LEFT_SUBSCRIBERS_DAYS", 30, lo=1, hi=36500
                ),
                purge_interval_s=_float(env, "FARO_PRIVACY_PURGE_INTERVAL", 3600.0),
                tracker_url=(
                    _database_url(env["FARO_RASA_TRACKER_URL"], "FARO_RASA_TRACKER_URL")
                    if env.get("FARO_RASA_TRACKER_URL")
                    else None
                ),
            ),
            email=_email(env),
            sms=_sms(env),
            contact=_contact(env),
            scale_out=ScaleOutSettings(
                redis_url=_redis_url(env.get("FARO_REDIS_URL")),
                redis_channel=env.get("FARO_REDIS_CHANNEL") or "faro:changes",
            ),
            generated_secrets=generated,
        )


def _secrets(
    env: Mapping[str, str], data_dir: Path, *, shared: bool
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The shared secrets: from the environment; on the embedded default, kept in a file.

    With a shared database several app replicas may run, and each must sign
    sessions and check Rasa's token with the same secret: a value generated
    per process would silently break sessions across them, so it is an error.
    One machine generates each secret once and keeps it in the data folder
    (mode 0600), so a restart keeps sessions and Rasa's token.
    """
    values: dict[str, str] = {}
    generated: list[str] = []
    for name, what in _SECRETS.items():
        given = env.get(name)
        if given:
            values[name] = given
            continue
        if shared:
            raise SettingsError(
                f"{name}: must be set ({what}) when the app database is shared "
                "(FARO_DATABASE_URL is not SQLite), so every replica uses the same value"
            )
        values[name] = _embedded_secret(data_dir, name)
        generated.append(name)
    return values, tuple(generated)


def _embedded_secret(data_dir: Path, name: str) -> str:
    path = data_dir / "secrets" / name.lower()
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path} ({exc.strerror})") from None
    value = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this machine won the race
        return path.read_text().strip()
    except OSError as exc:
        raise SettingsError(
            f"{name}: not set, and {path} cannot be created ({exc.strerror})"
        ) from None
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    logger.info("%s is not set: generated one, kept in %s", name, path)
    return value


def _redis_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("FARO_REDIS_URL: expected redis://host:port/db (or rediss://)")
    return value


def _rasa_urls(value: str) -> tuple[str, ...]:
    urls = tuple(u.strip().rstrip("/") for u in value.split(",") if u.strip())
    if not urls:
        raise SettingsError("FARO_RASA_URL: give at least one Rasa server URL")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"FARO_RASA_URL: expected http(s) URLs, got {url!r}")
    return urls


def _lang(value: str) -> str:
    if value not in LANGUAGES:
        raise SettingsError(f"FARO_DEFAULT_LANG: must be one of {', '.join(LANGUAGES)}")
    return value


def _database_url(value: str, name: str = "FARO_DATABASE_URL") -> str:
    try:
        make_url(value)
    except ArgumentError:
        raise SettingsError(
            f"{name}: not a database URL (e.g. sqlite:///path/faro.db or "
            "postgresql+psycopg://user:pass@host/db)"
        ) from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"FARO_STATUS_TIMEZONE: unknown time zone {value!r} (e.g. UTC, Europe/Madrid)"
        ) from None
    return value


def _origins(value: str | None) -> tuple[str, ...] | None:
    """``FARO_WEB_ALLOWED_ORIGINS``: comma-separated ``https://host[:port]`` (or ``*``)."""
    if not value or not value.strip():
        return None
    out: list[str] = []
    for item in (v.strip() for v in value.split(",")):
        if not item:
            continue
        scheme, sep, rest = item.partition("://")
        host = rest.rstrip("/")
        if item != "*" and (scheme not in ("http", "https") or not sep or not host or "/" in host):
            raise SettingsError(
                f"FARO_WEB_ALLOWED_ORIGINS: {item!r} is not an origin like https://www.example.com"
            )
        out.append(item)
    return tuple(out)


def _public_origin(value: str | None) -> str | None:
    """``FARO_PUBLIC_ORIGIN``: one ``http(s)://host[:port]`` without a path."""
    if not value or not value.strip():
        return None
    item = value.strip().rstrip("/")
    scheme, sep, host = item.partition("://")
    if scheme not in ("http", "https") or not sep or not host or "/" in host:
        raise SettingsError(
            f"FARO_PUBLIC_ORIGIN: {item!r} is not an origin like https://help.example.com"
        )
    return item


def _networks(value: str | None) -> tuple[str, ...]:
    """``FARO_TRUSTED_PROXIES``: comma-separated IP addresses or networks (CIDR)."""
    out: list[str] = []
    for item in (v.strip() for v in (value or "").split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(
                f"FARO_TRUSTED_PROXIES: {item!r} is not an IP address or network like 10.0.0.0/8"
            ) from None
        out.append(item)
    return tuple(out)


def _http_url(
    env: Mapping[str, str], name: str, default: str | None, *, slash: bool = False
) -> str | None:
    value = env.get(name)
    if not value:
        return default
    if not value.startswith(("https://", "http://")):
        raise SettingsError(f"{name}: expected an http(s) URL, got {value!r}")
    return value.rstrip("/") + ("/" if slash else "")


def _handoff(env: Mapping[str, str]) -> HandoffSettings:
    url = _http_url(env, "FARO_HANDOFF_WEBHOOK_URL", None)
    secret = env.get("FARO_HANDOFF_WEBHOOK_SECRET") or None
    if url and not secret:
        raise SettingsError(
            "FARO_HANDOFF_WEBHOOK_SECRET: set it (receivers check the signature) "
            "or unset FARO_HANDOFF_WEBHOOK_URL"
        )
    chatwoot = (
        _http_url(env, "FARO_CHATWOOT_URL", None),
        env.get("FARO_CHATWOOT_INBOX") or None,
        env.get("FARO_CHATWOOT_WEBHOOK_TOKEN") or None,
    )
    if any(chatwoot) and not all(chatwoot):
        raise SettingsError(
            "FARO_CHATWOOT_URL, FARO_CHATWOOT_INBOX and FARO_CHATWOOT_WEBHOOK_TOKEN: "
            "set all three to turn the Chatwoot bridge on, or none"
        )
    return HandoffSettings(
        webhook_url=url,
        webhook_secret=secret,
        chatwoot_url=chatwoot[0],
        chatwoot_inbox=chatwoot[1],
        chatwoot_token=chatwoot[2],
    )


def _email(env: Mapping[str, str]) -> EmailSettings:
    """``FARO_SMTP_URL``: ``smtp://user:pass@host:port`` (STARTTLS when offered) or ``smtps://``."""
    from urllib.parse import unquote, urlsplit

    sender = _email_from(env.get("FARO_EMAIL_FROM") or None)
    rate = _float(env, "FARO_SMTP_RATE", 10.0)
    value = env.get("FARO_SMTP_URL") or ""
    bounce_token = env.get("FARO_EMAIL_BOUNCE_TOKEN") or None
    if not value:
        return EmailSettings(sender=sender, rate_per_s=rate, bounce_token=bounce_token)
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(
            "FARO_SMTP_URL: expected smtp://user:pass@host:port or smtps://..., "
            f"got a {parts.scheme or 'schemeless'} URL"
        )
    try:
        port = parts.port
    except ValueError:
        raise SettingsError("FARO_SMTP_URL: the port is not a number from 1 to 65535") from None
    tls = parts.scheme == "smtps"
    return EmailSettings(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
        sender=sender,
        rate_per_s=rate,
        bounce_token=bounce_token,
    )


def _sms(env: Mapping[str, str]) -> SmsSettings:
    """``FARO_TWILIO_*``: the Twilio account that sends SMS."""
    return SmsSettings(
        account_sid=env.get("FARO_TWILIO_ACCOUNT_SID") or None,
        auth_token=env.get("FARO_TWILIO_AUTH_TOKEN") or None,
        sender=env.get("FARO_TWILIO_FROM") or None,
        api_url=_http_url(env, "FARO_TWILIO_API_URL", None) or "https://api.twilio.com",
        rate_per_s=_float(env, "FARO_TWILIO_RATE", 1.0),
    )


def _contact(env: Mapping[str, str]) -> ContactSettings:
    """``FARO_PUBLIC_URL`` and the limits on subscribe requests."""
    host = env.get("FARO_HOST", "127.0.0.1")
    port = env.get("FARO_PORT") or "8000"
    return ContactSettings(
        public_url=_http_url(env, "FARO_PUBLIC_URL", None) or f"http://{host}:{port}",
        rate_per_ip=_int(env, "FARO_SUBSCRIBE_RATE_PER_IP", 10, lo=1, hi=100_000),
        rate_per_address=_int(env, "FARO_SUBSCRIBE_RATE_PER_ADDRESS", 3, lo=1, hi=1000),
        confirm_ttl_s=_float(env, "FARO_SUBSCRIBE_CONFIRM_TTL", 48 * 3600.0),
    )


def _email_from(value: str | None) -> str | None:
    if value is not None and ("\r" in value or "\n" in value or "@" not in value):
        raise SettingsError("FARO_EMAIL_FROM: expected one address like updates@example.com")
    return value


def _telegram_secret(value: str | None) -> str | None:
    # What Telegram accepts as a webhook secret_token.
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    if value is not None and (len(value) > 256 or not set(value) <= allowed):
        raise SettingsError("FARO_TELEGRAM_SECRET: use 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return value


def _path(project: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else project / p


def _paths(project: Path, value: str) -> tuple[Path, ...]:
    return tuple(_path(project, v) for v in value.split(os.pathsep) if v)


def _feed(project: Path, value: str) -> str:
    if "://" in value:
        return value
    return str(_path(project, value))


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: expected 1 or 0 (true/false), got {raw!r}")


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed`` (the first is the default)."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return allowed[0]
    if raw not in allowed:
        raise SettingsError(f"{name}: expected one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _int(env: Mapping[str, str], name: str, default: int, *, lo: int, hi: int) -> int:
    value = _optional_int(env, name, lo=lo, hi=hi)
    return default if value is None else value


def _optional_int(env: Mapping[str, str], name: str, *, lo: int, hi: int) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}: must be between {lo} and {hi}, got {value}")
    return value


def _drill_origin(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(f"FARO_DRILL_ORIGIN: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise SettingsError("FARO_DRILL_ORIGIN: needs a UTC offset (e.g. ...Z)")
    return moment


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None
    if not 0 < value < float("inf"):  # also refuses nan
        raise SettingsError(f"{name}: must be a positive finite number, got {value}")
    return value


def _oidc_role(raw: str | None) -> str:
    """``FARO_OIDC_DEFAULT_ROLE``: a console role, or ``none`` (refuse without a role claim)."""
    value = (raw or "viewer").strip().lower()
    allowed = ("viewer", "editor", "communicator", "agent", "admin", "none")
    if value not in allowed:
        raise SettingsError(f"FARO_OIDC_DEFAULT_ROLE must be one of {', '.join(allowed)}")
    return value
