"""A project database made by an earlier version gains the analytics columns added since (the loader does it)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from bot.store.analytics_tables import add_missing_columns
from bot.store.db import build_engine
from bot.store.loader import create_schema


def test_the_loader_adds_the_columns_an_older_table_lacks(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE analytics_conversations (visitor VARCHAR(32) PRIMARY KEY, "
                                "started_at DATETIME NOT NULL, last_event_at DATETIME NOT NULL, "
                                "user_messages INTEGER NOT NULL, diagnostic_started_at DATETIME, "
                                "diagnostic_finished_at DATETIME, last_question VARCHAR(64))"))
    create_schema(engine)
    columns = {column["name"] for column in inspect(engine).get_columns("analytics_conversations")}
    assert {"asking", "active_loop", "turn"} <= columns
    assert add_missing_columns(engine) == []
