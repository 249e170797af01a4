"""One settings object per process, read from the environment at start.

Every setting has an embedded default that runs on one machine with no
services and no tokens. Secrets (tokens) come only from the environment and
are never logged or shown in ``repr``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("en", "es")


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Configuration of the app process (see README, "Configuration")."""

    project_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_timeout_s: float = 10.0
    action_token: str = field(repr=False)
    session_secret: str = field(repr=False)
    faq_paths: tuple[Path, ...]
    template_paths: tuple[Path, ...]
    status_feed: str
    status_poll_interval_s: float = 30.0
    status_webhook_token: str | None = field(default=None, repr=False)
    embedding_model: str | None = None
    database_url: str = field(repr=False)  # may hold a password
    max_message_chars: int = 1000
    default_lang: str = "en"
    web_allowed_origins: tuple[str, ...] | None = None  # None: own origin + localhost
    web_rate_per_session: int = 20  # messages per minute
    web_rate_per_ip: int = 120  # requests per minute
    web_push_poll_s: float = 5.0  # streams re-read the history this often
    admin_password: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    faq_poll_interval_s: float = 1.0
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str | None = None
    slack_staff_users: tuple[str, ...] = ()
    telegram_token: str | None = field(default=None, repr=False)
    telegram_secret: str | None = field(default=None, repr=False)
    telegram_api_url: str = "https://api.telegram.org"

    @property
    def cache_dir(self) -> Path:
        """Where built indexes and embeddings are cached."""
        return self.data_dir / "cache"

    @property
    def state_dir(self) -> Path:
        """Where the app persists small state files (last known status, ...)."""
        return self.data_dir / "state"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``); fail naming the variable."""
        env = os.environ if env is None else env
        project = Path(env.get("FARO_PROJECT_DIR") or Path.cwd()).resolve()
        data_dir = _path(project, env.get("FARO_DATA_DIR", ".faro"))
        rasa_urls = tuple(
            u.strip().rstrip("/")
            for u in env.get("FARO_RASA_URL", "http://127.0.0.1:5005").split(",")
            if u.strip()
        )
        if not rasa_urls:
            raise SettingsError("FARO_RASA_URL: give at least one Rasa server URL")
        default_lang = env.get("FARO_DEFAULT_LANG", "en")
        if default_lang not in LANGUAGES:
            raise SettingsError(f"FARO_DEFAULT_LANG: must be one of {', '.join(LANGUAGES)}")
        return cls(
            project_dir=project,
            host=env.get("FARO_HOST", "127.0.0.1"),
            port=_int(env, "FARO_PORT", 8000, lo=0, hi=65535),
            data_dir=data_dir,
            rasa_urls=rasa_urls,
            rasa_timeout_s=_float(env, "FARO_RASA_TIMEOUT", 10.0),
            action_token=env.get("FARO_ACTION_TOKEN") or secrets.token_urlsafe(24),
            session_secret=env.get("FARO_SESSION_SECRET") or secrets.token_urlsafe(32),
            faq_paths=_paths(project, env.get("FARO_FAQ", "data/faq")),
            template_paths=_paths(project, env.get("FARO_TEMPLATES", "data/templates")),
            status_feed=_feed(project, env.get("FARO_STATUS_FEED", "data/status/sample.json")),
            status_poll_interval_s=_float(env, "FARO_STATUS_POLL_INTERVAL", 30.0),
            status_webhook_token=env.get("FARO_STATUS_WEBHOOK_TOKEN") or None,
            embedding_model=env.get("FARO_EMBEDDING_MODEL") or None,
            database_url=env.get("FARO_DATABASE_URL") or f"sqlite:///{data_dir / 'faro.db'}",
            max_message_chars=_int(env, "FARO_MAX_MESSAGE_CHARS", 1000, lo=10, hi=100_000),
            default_lang=default_lang,
            web_allowed_origins=_origins(env.get("FARO_WEB_ALLOWED_ORIGINS")),
            web_rate_per_session=_int(env, "FARO_WEB_RATE_PER_SESSION", 20, lo=1, hi=100_000),
            web_rate_per_ip=_int(env, "FARO_WEB_RATE_PER_IP", 120, lo=1, hi=1_000_000),
            web_push_poll_s=_float(env, "FARO_WEB_PUSH_POLL", 5.0),
            admin_password=env.get("FARO_ADMIN_PASSWORD") or None,
            admin_token=env.get("FARO_ADMIN_TOKEN") or None,
            faq_poll_interval_s=_float(env, "FARO_FAQ_POLL_INTERVAL", 1.0),
            slack_bot_token=env.get("FARO_SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("FARO_SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("FARO_SLACK_APP_TOKEN") or None,
            slack_api_url=_slack_api_url(env.get("FARO_SLACK_API_URL")),
            slack_staff_users=tuple(
                u.strip() for u in env.get("FARO_SLACK_STAFF_USERS", "").split(",") if u.strip()
            ),
            telegram_token=env.get("FARO_TELEGRAM_TOKEN") or None,
            telegram_secret=_telegram_secret(env.get("FARO_TELEGRAM_SECRET") or None),
            telegram_api_url=_telegram_api_url(env.get("FARO_TELEGRAM_API_URL")),
        )


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


def _slack_api_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("https://", "http://")):
        raise SettingsError(f"FARO_SLACK_API_URL: expected an http(s) URL, got {value!r}")
    return value.rstrip("/") + "/"


def _telegram_secret(value: str | None) -> str | None:
    # What Telegram accepts as a webhook secret_token.
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    if value is not None and (len(value) > 256 or not set(value) <= allowed):
        raise SettingsError("FARO_TELEGRAM_SECRET: use 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return value


def _telegram_api_url(value: str | None) -> str:
    if not value:
        return "https://api.telegram.org"
    if not value.startswith(("https://", "http://")):
        raise SettingsError(f"FARO_TELEGRAM_API_URL: expected an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _path(project: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else project / p


def _paths(project: Path, value: str) -> tuple[Path, ...]:
    return tuple(_path(project, v) for v in value.split(os.pathsep) if v)


def _feed(project: Path, value: str) -> str:
    if "://" in value:
        return value
    return str(_path(project, value))


def _int(env: Mapping[str, str], name: str, default: int, *, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
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
