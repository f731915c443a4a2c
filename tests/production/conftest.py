"""One production topology for the module: two Rasa servers, PostgreSQL, Redis and nginx, on test ports.

Throw-away PostgreSQL databases (unique names, created then dropped), Redis db 2
(the lock keys of this run's conversations removed before and after), and ports
that clash neither with tests/conftest.py (15005/15055/18000) nor with the
benchmarks (25xxx/28xxx): nginx 18180 (balancer 18181), Rasa 16005/16006,
actions 16055, web app 18100. Override with TEST_PROD_* variables.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from bot.runtime.nginx import NGINX
from bot.runtime.processes import DEFAULT_MODEL
from bot.runtime.production import Production
from tests.client import Client

ROOT = Path(__file__).resolve().parent.parent.parent
OUTPUT = ROOT / "tests" / "output" / "production"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/2"
LOCK_KEY_PREFIX = "alliance:lock:"  # bot/runtime/stack.py's key_prefix "alliance" + Rasa's "lock:"
RUN_ID = uuid.uuid4().hex[:8]
SENDER_PREFIX = f"prod{RUN_ID}"
WIDGET_ORIGIN = "https://partenaire.example.org"
EVENT_QUEUE = f"alliance_events_{SENDER_PREFIX}"  # the one site allowed to embed the widget in these tests


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def _drop_database(name: str) -> None:
    admin = create_engine(f"{POSTGRES}/postgres", future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _forget_our_locks() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{LOCK_KEY_PREFIX}{SENDER_PREFIX}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _delete_queue(name: str) -> None:
    import asyncio

    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect("amqp://127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(name)

    # RabbitMQ gone, or the queue never made: nothing to clean.
    with contextlib.suppress(Exception):
        asyncio.run(delete())


@pytest.fixture(scope="module")
def production() -> Iterator[Production]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first")
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing: `make production` installs Debian's nginx")
    database, tracker = f"alliance_prod_{RUN_ID}", f"alliance_prod_{RUN_ID}_tracker"
    run_dir = OUTPUT / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    _forget_our_locks()
    running = Production(
        rasa_servers=2,
        public_port=_port("TEST_PROD_PORT", 18180),
        internal_port=_port("TEST_PROD_BALANCER_PORT", 18181),
        first_rasa_port=_port("TEST_PROD_RASA_PORT", 16005),
        action_port=_port("TEST_PROD_ACTION_PORT", 16055),
        web_port=_port("TEST_PROD_WEB_PORT", 18100),
        run_dir=run_dir,
        public_host="127.0.0.1",
        env={
            "DATABASE_URL": f"{POSTGRES}/{database}",
            "TRACKER_STORE_URL": f"{POSTGRES}/{tracker}",
            "LOCK_STORE_URL": REDIS_URL,
            "WIDGET_ORIGINS": WIDGET_ORIGIN,
            # Sequential tests from one address stay far below it; set explicitly so that .env cannot lower it.
            "RATE_LIMIT_PER_SECOND": "10",
            # This run's own RabbitMQ queue for Rasa's events (deleted after); the event store is the project database.
            "EVENT_QUEUE": EVENT_QUEUE,
        },
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
        _forget_our_locks()
        _delete_queue(EVENT_QUEUE)
        for name in (database, tracker):
            _drop_database(name)


@pytest.fixture(scope="module")
def public(production: Production) -> Client:
    """A user's way in: nginx's public port (the web app relays the chat to the balanced Rasa servers)."""
    return Client(production.public_url, production.public_url, production.api_token)


@pytest.fixture(scope="module")
def servers(production: Production) -> list[Client]:
    """One client per Rasa server, straight to its port (the diagnostic API still goes through nginx)."""
    return [Client(production.rasa_url(index), production.public_url, production.api_token)
            for index in range(production.rasa_servers or 0)]


@pytest.fixture
def sender() -> str:
    return Client.new_sender(SENDER_PREFIX)
