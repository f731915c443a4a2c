"""Rasa's SQL event broker, writing off the turn (what `make run` uses).

Rasa's ``SQLEventBroker`` inserts and commits every event on its own, inside the turn, on Rasa's event loop:
10 to 15 commits a turn, which added 37 to 55 ms to a turn's p50 on this machine (bench/broker.py).
:class:`QuickSQLEventBroker` hands each event to one writer thread instead, which inserts what has arrived
in one transaction, in order; SQLite runs in WAL mode with ``synchronous=NORMAL`` (a commit does not wait
for the disk). What is lost: the events not yet written when the Rasa process is killed (those of the
last moment; figures, never answers, which are in the tracker store). Rasa's ``close()`` writes what is left.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any

from rasa.core.brokers.sql import SQLEventBroker
from sqlalchemy import event

LOGGER = logging.getLogger(__name__)
BATCH = 500
STOP = object()


class QuickSQLEventBroker(SQLEventBroker):
    """``SQLEventBroker`` whose ``publish`` only queues the event; a thread writes the queue in batches."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                # The projection deletes what it read in the same file: wait for it rather than fail.
                cursor.execute("PRAGMA busy_timeout=15000")
                cursor.close()

            self.engine.dispose()  # the connection Rasa opened to create the table had none of these
        self._pending: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_forever, name="event-broker-writer", daemon=True)
        self._writer.start()

    def publish(self, event: dict[str, Any]) -> None:
        self._pending.put(event)

    def _write_forever(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            events = [item for item in batch if item is not STOP]
            if events:
                self._write(events)
            if len(events) < len(batch):
                return

    def _write(self, events: list[dict[str, Any]]) -> None:
        try:
            with self.session_scope() as session:
                # One multi-row insert: the ORM's add_all would insert row by row, to learn every new id.
                session.execute(self.SQLBrokerEvent.__table__.insert(),
                                [{"sender_id": item.get("sender_id"), "data": json.dumps(item)} for item in events])
                session.commit()
        except Exception:  # the database busy or gone: the figures miss these, the chat goes on
            LOGGER.exception("could not write %d events for the analytics", len(events))

    def flush(self, timeout: float = 10.0) -> None:
        """Write what is queued, and stop the writer (Rasa's ``close``)."""
        if self._writer.is_alive():
            self._pending.put(STOP)
            self._writer.join(timeout)

    async def close(self) -> None:
        self.flush()
