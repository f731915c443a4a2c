"""Rasa's SQL event broker, with SQLite set up for one small write per event (what `make run` uses).

Rasa's ``SQLEventBroker`` commits every event on its own, in the turn: on SQLite's default settings each
commit waits for the disk (fsync), about 4 ms per event and 50 ms per turn on this machine
(bench/broker.py). In WAL mode with ``synchronous=NORMAL`` a commit no longer waits for the disk; a crash
of the process loses nothing committed, only a power cut can lose the last events (figures, not
answers). PostgreSQL is left as Rasa sets it.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.sql import SQLEventBroker
from sqlalchemy import event


class QuickSQLEventBroker(SQLEventBroker):
    """``SQLEventBroker`` whose SQLite connections use WAL, ``synchronous=NORMAL`` and a busy timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite":
            return

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # The projection deletes what it read in the same file: wait for it rather than fail.
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        self.engine.dispose()  # the connection Rasa opened to create the table had none of these
