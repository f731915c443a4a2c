"""Throw-away databases for the tests: a SQLite file, or a PostgreSQL database created and dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.store.db import build_engine

POSTGRES_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_engine(kind: str, folder: Path) -> Iterator[Engine]:
    """An engine on a new empty database of ``kind`` ("sqlite" in ``folder``, or "postgresql"), removed after."""
    if kind == "sqlite":
        engine = build_engine(f"sqlite:///{folder / f'test-{uuid.uuid4().hex[:8]}.db'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    name = f"alliance_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = build_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            # A connection left open by the code under test must not keep the database alive.
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
