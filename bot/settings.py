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

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    embedding_threads: int = 1  # torch intra-op threads of this process
    poll_interval_s: float = 1.0


@dataclass(frozen=True, kw_only=True)
class StatusSettings:
    """The incident status source."""

    feed: str
    poll_interval_s: float = 30.0
    webhook_token: str | None = field(default=None, repr=False)
    timezone: str = "UTC"  # how times are shown to customers


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """The website chat widget's API."""

    session_secret: str = field(repr=False)
    allowed_origins: tuple[str, ...] | None = None  # None: own origin + localhost
    rate_per_session: int = 20  # messages per minute
    rate_per_ip: int = 120  # requests per minute
    push_poll_s: float = 5.0  # streams re-read the history this often


@dataclass(frozen=True, kw_only=True)
class AdminSettings:
    """The staff console's bootstrap secrets (unset: the admin is off)."""

    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class SlackSettings:
    """Slack (off unless a bot token and a signing secret or app token are set)."""

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    staff_users: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TelegramSettings:
    """Telegram (off unless a bot token is set)."""

    token: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    api_url: str = "https://api.telegram.org"


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
    admin: AdminSettings
    slack: SlackSettings
    telegram: TelegramSettings
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
            ),
            rasa=RasaSettings(
                urls=_rasa_urls(env.get("FARO_RASA_URL", "http://127.0.0.1:5005")),
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
                embedding_threads=_int(env, "FARO_EMBEDDING_THREADS", 1, lo=1, hi=256),
                poll_interval_s=_float(env, "FARO_FAQ_POLL_INTERVAL", 1.0),
            ),
            template_paths=_paths(project, env.get("FARO_TEMPLATES", "data/templates")),
            status=StatusSettings(
                feed=_feed(project, env.get("FARO_STATUS_FEED", "data/status/sample.json")),
                poll_interval_s=_float(env, "FARO_STATUS_POLL_INTERVAL", 30.0),
                webhook_token=env.get("FARO_STATUS_WEBHOOK_TOKEN") or None,
                timezone=_timezone(env.get("FARO_STATUS_TIMEZONE") or "UTC"),
            ),
            web=WebSettings(
                session_secret=shared["FARO_SESSION_SECRET"],
                allowed_origins=_origins(env.get("FARO_WEB_ALLOWED_ORIGINS")),
                rate_per_session=_int(env, "FARO_WEB_RATE_PER_SESSION", 20, lo=1, hi=100_000),
                rate_per_ip=_int(env, "FARO_WEB_RATE_PER_IP", 120, lo=1, hi=1_000_000),
                push_poll_s=_float(env, "FARO_WEB_PUSH_POLL", 5.0),
            ),
            admin=AdminSettings(
                password=env.get("FARO_ADMIN_PASSWORD") or None,
                token=env.get("FARO_ADMIN_TOKEN") or None,
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


def _database_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError:
        raise SettingsError(
            "FARO_DATABASE_URL: not a database URL (e.g. sqlite:///path/faro.db or "
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


def _http_url(
    env: Mapping[str, str], name: str, default: str | None, *, slash: bool = False
) -> str | None:
    value = env.get(name)
    if not value:
        return default
    if not value.startswith(("https://", "http://")):
        raise SettingsError(f"{name}: expected an http(s) URL, got {value!r}")
    return value.rstrip("/") + ("/" if slash else "")


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
