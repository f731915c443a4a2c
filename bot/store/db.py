"""The one way into the project database (diagnostics and the questionnaire).

The engine is built lazily from the settings, so importing this module opens
nothing; each unit of work gets its own session through :func:`session_scope`.
SQLAlchemy 1.4 is pinned by Rasa: we use its 2.0 style (``future=True``,
``select()``, ``Session.execute()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import get_settings


def build_engine(url: str) -> Engine:
    """Create an engine for ``url`` with settings that suit our small, short transactions."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 gives a file database a NullPool: every unit of work opened a new SQLite connection
        # (file open, schema read, the two PRAGMAs below): 2.6 against 1.7 ms of CPU and 6.9 against 4.0 ms
        # of wall time per record_progress (docs/performance.md). Connections are now kept, as SQLAlchemy 2.0
        # does by default; a pooled connection is used by one thread at a time, so check_same_thread is off.
        poolclass = QueuePool if database and database != ":memory:" else None
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 15},
                               **({"poolclass": poolclass} if poolclass else {}))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets the web app read while the action server writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # pool_pre_ping: a connection dropped by a database restart is replaced, not reused.
    return create_engine(url, future=True, pool_pre_ping=True)


@cache
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database)."""
    return build_engine(url or get_settings().database_url)


@cache
def _session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for one unit of work: committed on success, rolled back on error."""
    session: Session = _session_factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
