"""Every setting of the assistant, read from the environment once per process.

`settings()` builds one frozen `Settings` the first time it is called, after
reading `.env` in the project root (python-dotenv; a variable already set wins),
and returns that object ever after: a process's configuration cannot change
under it. `reload_settings()` builds it anew, for tests that change the
environment (tests/support/settings.py does so after every monkeypatched variable).

Each field names its environment variable, default and meaning; `.env.example`
and the README list the same variables (tests/unit/test_settings.py checks). Values
with checks of their own (Open311 timeout, alert rates, console limits) stay
text here and are checked where they are used, so the error names its context.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOTENV_FILE = PROJECT_ROOT / ".env"


def setting(
    variable: str, default: Any, parse: Callable[[str], Any] = str, *, keep_empty: bool = False, internal: bool = False
) -> Any:
    """A field read from `variable` (unset or empty: `default`).

    keep_empty: an empty value is a value (not the default). internal: set by
    `citybot run` for the processes it starts, not by the city (not in .env.example).
    """
    return field(
        default=default,
        metadata={
            "variable": variable,
            "parse": parse,
            "keep_empty": keep_empty,
            "internal": internal,
        },
    )


def _stripped(raw: str) -> str:
    return raw.strip()


def _flag_unless_zero(raw: str) -> bool:
    return raw.strip() != "0"


@dataclass(frozen=True)
class Settings:
    """The configuration of one process (see the README's "Configuration")."""

    # --- the city's back office (Open311 GeoReport v2)
    open311_url: Optional[str] = setting("OPEN311_URL", None)  # unset: start and use the reference server
    open311_api_key: Optional[str] = setting(
        "OPEN311_API_KEY", None
    )  # unset: the development key, reference server only
    open311_jurisdiction_id: Optional[str] = setting("OPEN311_JURISDICTION_ID", None)  # sent with every call
    open311_timeout: str = setting("OPEN311_TIMEOUT", "10")  # seconds before a call gives up (checked by the client)
    open311_api_keys: Optional[str] = setting(
        "OPEN311_API_KEYS", None, keep_empty=True
    )  # reference server: accepted keys, comma-separated
    city_file: Optional[Path] = setting("CITY_FILE", None, Path)  # unset: bot/city/riverton.yml
    # training only: CLINC150's file for out-of-scope examples (unset: ../shared/eval/clinc150/data_full.json)
    out_of_scope_negatives: Optional[Path] = setting("OUT_OF_SCOPE_NEGATIVES", None, Path)

    # --- storage
    database_url: Optional[str] = setting("DATABASE_URL", None)  # unset: SQLite files in var_dir
    redis_url: Optional[str] = setting("REDIS_URL", None)  # conversation locks shared by several machines
    var_dir: Path = setting("CITYBOT_VAR_DIR", PROJECT_ROOT / "var", Path)  # SQLite files, logs, generated tokens
    rasa_model: Path = setting("RASA_MODEL", PROJECT_ROOT / "models", Path)  # the trained model (file or folder)

    # --- processes, ports and tokens
    rasa_port: int = setting("RASA_PORT", 5005, int)
    action_port: int = setting("ACTION_PORT", 5055, int)
    open311_port: int = setting("OPEN311_PORT", 8311, int)
    rasa_api_token: Optional[str] = setting("RASA_API_TOKEN", None)  # unset: made once into var/rasa-api-token
    action_server_token: Optional[str] = setting(
        "ACTION_SERVER_TOKEN", None, _stripped
    )  # unset: var/action-server-token
    action_host: str = setting("ACTION_HOST", "127.0.0.1")  # where the action server listens
    action_endpoint_url: Optional[str] = setting(
        "ACTION_ENDPOINT_URL", None
    )  # unset: http://127.0.0.1:ACTION_PORT/webhook
    actions_in_process: bool = setting(
        "ACTIONS_IN_PROCESS", True, _flag_unless_zero
    )  # "0" (or ACTION_ENDPOINT_URL set): the actions run in the action server
    sanic_host: str = setting(
        "SANIC_HOST", "127.0.0.1", internal=True
    )  # the action server's interface (from ACTION_HOST)
    rasa_workers: Optional[int] = setting("RASA_WORKERS", None, int)  # unset: 2 (1 on one core); scale-out: the cores
    action_workers: Optional[int] = setting("ACTION_WORKERS", None, int)  # unset: 1; scale-out: the cores
    rasa_processes: int = setting("RASA_PROCESSES", 1, int)  # Rasa servers on RASA_PORT, +1, +2...
    citybot_processes: Optional[str] = setting("CITYBOT_PROCESSES", None)  # unset: all; e.g. "actions,rasa"
    action_tracker_user_turns: Optional[int] = setting("ACTION_TRACKER_USER_TURNS", None, int)  # unset: 5; 0: all
    tracker_cache_size: Optional[int] = setting("TRACKER_CACHE_SIZE", None, int)  # unset: 5000 conversations
    tracker_shared: bool = setting("TRACKER_SHARED", True, _flag_unless_zero)  # "0": no other Rasa process writes
    tracker_url: Optional[str] = setting(
        "TRACKER_URL", None, internal=True
    )  # Rasa's SQL tracker store, which the console reads (unset: DATABASE_URL, else var/rasa.db)
    tf_intra_op_threads: Optional[str] = setting("TF_INTRA_OP_PARALLELISM_THREADS", None)  # unset: 1
    tf_inter_op_threads: Optional[str] = setting("TF_INTER_OP_PARALLELISM_THREADS", None)  # unset: 1
    tf_onednn_opts: Optional[str] = setting("TF_ENABLE_ONEDNN_OPTS", None)  # unset: 0 (TensorFlow's oneDNN kernels off)
    openblas_threads: Optional[str] = setting("OPENBLAS_NUM_THREADS", None)  # unset: 1 (numpy's BLAS threads)
    sanic_keep_alive_timeout: Optional[str] = setting("SANIC_KEEP_ALIVE_TIMEOUT", None)  # unset: 75 seconds
    log_level: Optional[str] = setting("LOG_LEVEL", None)  # unset: each command's own default
    user: Optional[str] = setting("USER", None, internal=True)  # the login name, for who holds a conversation

    # --- public address and secrets
    public_url: Optional[str] = setting("PUBLIC_URL", None)  # webhooks and photo links; https: production
    secret_key: Optional[str] = setting("CITYBOT_SECRET_KEY", None)  # unset: the development key (with a warning)

    # --- Telegram (also in credentials.yml, for the Rasa server)
    telegram_bot_token: Optional[str] = setting("TELEGRAM_BOT_TOKEN", None, _stripped)
    telegram_secret_token: Optional[str] = setting("TELEGRAM_SECRET_TOKEN", None, _stripped)
    telegram_api_base_url: Optional[str] = setting("TELEGRAM_API_BASE_URL", None, _stripped)  # unset: api.telegram.org
    telegram_file_base_url: Optional[str] = setting("TELEGRAM_FILE_BASE_URL", None, _stripped)  # unset: from the API's

    # --- SMS and WhatsApp over Twilio (also in credentials.yml, for the Rasa server)
    twilio_account_sid: Optional[str] = setting("TWILIO_ACCOUNT_SID", None, _stripped)
    twilio_auth_token: Optional[str] = setting("TWILIO_AUTH_TOKEN", None, _stripped)
    twilio_from_number: Optional[str] = setting("TWILIO_FROM_NUMBER", None, _stripped)
    twilio_whatsapp_from: Optional[str] = setting("TWILIO_WHATSAPP_FROM", None, _stripped)
    twilio_messaging_service_sid: Optional[str] = setting("TWILIO_MESSAGING_SERVICE_SID", None, _stripped)
    twilio_api_base_url: Optional[str] = setting("TWILIO_API_BASE_URL", None, _stripped)  # unset: api.twilio.com

    # --- Facebook Messenger and Instagram (also in credentials.yml, for the Rasa server)
    messenger_app_secret: Optional[str] = setting("MESSENGER_APP_SECRET", None, _stripped)
    messenger_verify_token: Optional[str] = setting("MESSENGER_VERIFY_TOKEN", None, _stripped)
    messenger_page_access_token: Optional[str] = setting("MESSENGER_PAGE_ACCESS_TOKEN", None, _stripped)
    messenger_page_id: Optional[str] = setting("MESSENGER_PAGE_ID", None, _stripped)
    meta_graph_api_base_url: Optional[str] = setting(
        "META_GRAPH_API_BASE_URL", None, _stripped
    )  # unset: https://graph.facebook.com/v21.0

    # --- the worker and reports
    outbox_poll_seconds: float = setting("OUTBOX_POLL_SECONDS", 2.0, float)
    outbox_base_backoff_seconds: float = setting("OUTBOX_BASE_BACKOFF_SECONDS", 2.0, float)
    outbox_max_backoff_seconds: float = setting("OUTBOX_MAX_BACKOFF_SECONDS", 600.0, float)
    status_poll_seconds: float = setting("STATUS_POLL_SECONDS", 60.0, float)
    duplicate_radius_meters: float = setting("DUPLICATE_RADIUS_METERS", 50.0, float)

    # --- city jobs (bot/jobs): the careers feed the worker reads, and how often
    # unset: the city's own file shipped in bot/city/riverton_jobs.jsonld; else an http(s) URL of JobPosting
    # JSON-LD (a JSON document, or a careers page with it embedded) or of an RSS/Atom feed
    jobs_feed_url: Optional[str] = setting("JOBS_FEED_URL", None, _stripped)
    jobs_refresh_seconds: float = setting("JOBS_REFRESH_SECONDS", 900.0, float)  # how often the worker reads it
    jobs_feed_timeout: float = setting("JOBS_FEED_TIMEOUT", 10.0, float)  # seconds before a read gives up

    # --- privacy (bot/retention)
    # days a conversation's transcript and contact details are kept; unset: what the city file's privacy
    # answer promises ("kept for 90 days"), else 90 (checked by bot.retention.policy)
    retention_days: Optional[int] = setting("RETENTION_DAYS", None, int)

    # --- photos residents upload in the web chat (bot/channels/webchat_photos.py)
    webchat_photo_max_mb: float = setting("WEBCHAT_PHOTO_MAX_MB", 10.0, float)  # the largest file accepted
    webchat_photos_per_hour: int = setting("WEBCHAT_PHOTOS_PER_HOUR", 10, int)  # per conversation
    webchat_photos_per_minute: int = setting("WEBCHAT_PHOTOS_PER_MINUTE", 60, int)  # all web chats together

    # --- answers staff edit in the console (bot/answers): how often each Rasa process reads the published ones
    answers_refresh_seconds: float = setting("ANSWERS_REFRESH_SECONDS", 60.0, float)  # at least 1

    # --- the staff console (checked by bot.handoff, which falls back to its defaults)
    console_port: Optional[int] = setting("CONSOLE_PORT", None, int)  # unset: 8080
    console_host: str = setting("CONSOLE_HOST", "127.0.0.1")
    rasa_url: Optional[str] = setting("RASA_URL", None)  # unset: http://127.0.0.1:RASA_PORT
    console_session_idle_minutes: Optional[str] = setting("CONSOLE_SESSION_IDLE_MINUTES", None)  # unset: 30
    console_session_hours: Optional[str] = setting("CONSOLE_SESSION_HOURS", None)  # unset: 12
    console_on_duty_seconds: Optional[str] = setting("CONSOLE_ON_DUTY_SECONDS", None)  # unset: 90
    console_secure_cookies: str = setting("CONSOLE_SECURE_COOKIES", "auto")  # auto: when the request is https
    console_signin_attempts: Optional[str] = setting("CONSOLE_SIGNIN_ATTEMPTS", None)  # unset: 10 per window
    console_signin_window_seconds: Optional[str] = setting("CONSOLE_SIGNIN_WINDOW_SECONDS", None)  # unset: 300
    console_lockout_minutes: Optional[str] = setting("CONSOLE_LOCKOUT_MINUTES", None)  # unset: 5
    console_trusted_proxies: Optional[str] = setting(
        "CONSOLE_TRUSTED_PROXIES", None
    )  # X-Forwarded-For believed from these
    console_hash_threads: Optional[str] = setting("CONSOLE_HASH_THREADS", None)  # unset: half the cores, 1-4

    # --- crisis alerts (checked by bot.alerts)
    alert_rate_telegram: Optional[str] = setting("ALERT_RATE_TELEGRAM", None)  # messages a second; unset: 30
    alert_rate_sms: Optional[str] = setting("ALERT_RATE_SMS", None)  # unset: 1
    alert_rate_whatsapp: Optional[str] = setting("ALERT_RATE_WHATSAPP", None)  # unset: 20
    alert_rate_webchat: Optional[str] = setting("ALERT_RATE_WEBCHAT", None)  # unset: 100
    alert_max_attempts: Optional[str] = setting("ALERT_MAX_ATTEMPTS", None)  # unset: 5
    alert_retry_base_seconds: Optional[str] = setting("ALERT_RETRY_BASE_SECONDS", None)  # unset: 5
    alert_retry_max_seconds: Optional[str] = setting("ALERT_RETRY_MAX_SECONDS", None)  # unset: 300
    alert_lease_seconds: Optional[str] = setting("ALERT_LEASE_SECONDS", None)  # unset: 30
    alert_concurrency: Optional[str] = setting("ALERT_CONCURRENCY", None)  # senders per channel; unset: from the rate

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Settings":
        """The settings a mapping of environment variables gives (unset or empty: the default)."""
        values: Dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["variable"])
            if raw is None or (raw == "" and not spec.metadata["keep_empty"]):
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw)
            except ValueError:
                raise ValueError(f"{spec.metadata['variable']}: not a valid value: {raw!r}") from None
        return cls(**values)

    def get(self, variable: str) -> Any:
        """The value read from `variable`, for code that names settings by variable (None: not a setting)."""
        name = FIELD_OF_VARIABLE.get(variable)
        return getattr(self, name) if name else None


FIELD_OF_VARIABLE: Dict[str, str] = {spec.metadata["variable"]: spec.name for spec in fields(Settings)}


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    """This process's settings, built on first use from `.env` and the environment."""
    read_dotenv()
    return Settings.from_environ(os.environ)


@functools.lru_cache(maxsize=1)
def read_dotenv() -> None:
    """`.env` into the environment, once per process (a variable already set wins)."""
    load_dotenv(DOTENV_FILE, override=False)


def reload_settings() -> Settings:
    """Build the settings anew from the environment (for tests that change it)."""
    settings.cache_clear()
    return settings()
