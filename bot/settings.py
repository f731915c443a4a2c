"""Runtime settings, read from the environment and an optional ``.env`` file.

Every process (action server, web app, loader, tests) gets its configuration
from here, so one ``.env`` file switches the whole project, e.g. from the
default SQLite files to PostgreSQL. Nothing is read at import time: call
:func:`get_settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

from bot.paths import REPO_ROOT, RUN_DIR


@dataclass(frozen=True)
class Settings:
    """What the processes need to know about their surroundings."""

    database_url: str
    tracker_store_url: str
    rasa_url: str
    action_server_url: str
    web_host: str
    web_port: int
    questionnaire_path: Path
    public_url: str
    widget_origins: tuple[str, ...]
    rasa_api_token: str | None
    retention_days: float
    max_message_chars: int
    conversation_rate: tuple[int, float]
    address_rate: tuple[int, float]
    proxies_count: int
    lock_store_url: str | None
    #: redis://host:port/db where every web app counts the rate limits together; None: in each process's memory.
    rate_limit_store_url: str | None = None
    #: Default lifetime of a workshop, in hours (``python -m bot.workshops create --hours`` overrides it).
    workshop_hours: float = 12.0
    #: Conversations whose tracker each Rasa server keeps between messages (bot/runtime/tracker_store.py).
    tracker_cache_size: int = 500
    #: Show the answers for a last check before the result (RECAP_BEFORE_RESULT=false skips it).
    recap_before_result: bool = True
    #: Where Rasa's event broker leaves the raw events (table ``events``) that bot/analytics projects.
    event_store_url: str = ""
    #: Seconds between two projections of the raw events by the web app (0: never in the background).
    analytics_interval: float = 5.0
    #: RabbitMQ (production mode): amqp://user:password@host:port/vhost and the durable queue of the events.
    rabbitmq_url: str = "amqp://127.0.0.1:5672/"
    event_queue: str = "alliance_events"
    #: The owner's console password, as ``python -m bot.console set-password`` writes it; None: /admin answers 404.
    admin_password_hash: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _rate(value: str) -> tuple[int, float]:
    """« 30/10 »: 30 messages per 10 seconds."""
    count, _, seconds = value.partition("/")
    return int(count), float(seconds or 1)


def _default_sqlite(name: str) -> str:
    return f"sqlite:///{RUN_DIR / name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process (``.env`` does not override real variables)."""
    load_dotenv(REPO_ROOT / ".env", override=False)
    env = os.environ
    return Settings(
        database_url=env.get("DATABASE_URL") or _default_sqlite("alliance.db"),
        tracker_store_url=env.get("TRACKER_STORE_URL") or _default_sqlite("tracker.db"),
        rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005"),
        action_server_url=env.get("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook"),
        web_host=env.get("WEB_HOST", "127.0.0.1"),
        web_port=int(env.get("WEB_PORT", "8000")),
        questionnaire_path=Path(env.get("QUESTIONNAIRE_PATH") or REPO_ROOT / "data" / "questionnaire.yml"),
        # Links in the bot's messages are relative (the widget resolves them) unless this is set.
        public_url=env.get("PUBLIC_URL", "").rstrip("/"),
        widget_origins=tuple(origin.strip() for origin in env.get("WIDGET_ORIGINS", "*").split(",") if origin.strip()),
        # Rasa's HTTP API always needs a token; without one in .env, each start draws a new one.
        rasa_api_token=env.get("RASA_API_TOKEN") or None,
        # redis://host:port/db for Rasa's lock store (several Rasa servers); empty: Rasa's in-memory locks.
        lock_store_url=env.get("LOCK_STORE_URL") or None,
        rate_limit_store_url=env.get("RATE_LIMIT_STORE_URL") or None,
        retention_days=float(env.get("RETENTION_DAYS", "180")),
        max_message_chars=int(env.get("MAX_MESSAGE_CHARS", "2000")),
        conversation_rate=_rate(env.get("RATE_LIMIT_CONVERSATION", "30/10")),
        address_rate=_rate(env.get("RATE_LIMIT_ADDRESS", "120/10")),
        # How many proxies (nginx) stand in front of the web app: their X-Forwarded-For is trusted.
        proxies_count=int(env.get("PROXIES_COUNT", "0")),
        workshop_hours=float(env.get("WORKSHOP_HOURS") or "12"),
        tracker_cache_size=int(env.get("TRACKER_CACHE_SIZE") or "500"),
        # A file of its own by default: Rasa's broker writes it at every turn, the project database stays free.
        event_store_url=env.get("EVENT_STORE_URL") or _default_sqlite("events.db"),
        analytics_interval=float(env.get("ANALYTICS_INTERVAL") or "5"),
        rabbitmq_url=env.get("RABBITMQ_URL") or "amqp://127.0.0.1:5672/",
        event_queue=env.get("EVENT_QUEUE") or "alliance_events",
        recap_before_result=(env.get("RECAP_BEFORE_RESULT") or "true").strip().lower() not in ("false", "0", "no", "non"),
        admin_password_hash=(env.get("ADMIN_PASSWORD_HASH") or "").strip() or None,
    )
