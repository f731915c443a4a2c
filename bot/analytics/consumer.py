"""Production mode's consumer: RabbitMQ's queue of Rasa events into the raw event table.

``python -m bot.analytics.consumer`` (a supervised process of bot/runtime/production.py) reads the durable
queue that Rasa's Pika broker publishes to (``EVENT_QUEUE``, default ``alliance_events``, on
``RABBITMQ_URL``) and inserts each message into the table ``events`` of the event store
(``EVENT_STORE_URL``), the same table Rasa's SQL broker fills with ``make run``. Messages are taken in
small batches and acknowledged only after the batch is committed: a consumer killed at any moment loses
nothing (RabbitMQ delivers the unacknowledged messages again; an event inserted twice is possible only if
the process dies between the commit and the acknowledgement, and then the projection sees a repeated
event of a turn, which changes no count but the user's message count).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from bot.settings import get_settings
from bot.store.event_store import event_store_engine, insert_events

LOGGER = logging.getLogger("bot.analytics.consumer")
BATCH = 200  # messages committed together at most
FLUSH_AFTER = 0.2  # seconds a message waits at most for others before its batch is committed
RECONNECT_DELAY = 2.0


async def consume(url: str, queue_name: str, event_store_url: str, stop: asyncio.Event) -> None:
    """Move messages from the queue to the event store until ``stop`` is set."""
    engine = event_store_engine(event_store_url)
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=BATCH)
        # The same declaration as Rasa's Pika broker (durable), so that whichever starts first creates it.
        queue = await channel.declare_queue(queue_name, durable=True)
        pending: list[AbstractIncomingMessage] = []
        arrived = asyncio.Event()

        async def on_message(message: AbstractIncomingMessage) -> None:
            pending.append(message)
            arrived.set()

        tag = await queue.consume(on_message)
        LOGGER.info("consuming %s into the event store", queue_name)
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(arrived.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    continue
                await asyncio.sleep(FLUSH_AFTER)
                arrived.clear()
                batch, pending[:] = list(pending), []
                await asyncio.to_thread(_store, engine, [message.body for message in batch])
                # Acknowledged once committed: a crash before this line makes RabbitMQ deliver them again.
                await batch[-1].ack(multiple=True)
        finally:
            await queue.cancel(tag)


def _store(engine, bodies: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        insert_events(connection, bodies)


async def run(url: str, queue_name: str, event_store_url: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        try:
            await consume(url, queue_name, event_store_url, stop)
        except (aio_pika.exceptions.AMQPError, OSError) as error:
            LOGGER.warning("RabbitMQ unavailable (%s); trying again in %.0f s", type(error).__name__, RECONNECT_DELAY)
            await asyncio.sleep(RECONNECT_DELAY)


def main(argv: Sequence[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.analytics.consumer",
                                     description="RabbitMQ's Rasa events into the event store (production mode).")
    parser.add_argument("--queue", default=settings.event_queue)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    asyncio.run(run(settings.rabbitmq_url, args.queue, settings.event_store_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
