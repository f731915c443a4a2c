"""Rasa's own SQL event broker, configured as `make run` writes it, fills the table the projection reads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import select

from bot.runtime.rasa_config import sql_event_broker_config
from bot.store.db import build_engine
from bot.store.event_store import RAW_EVENTS


def test_rasa_loads_the_generated_sql_broker_and_its_rows_are_the_raw_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(sql_event_broker_config(url), encoding="utf-8")
    broker = asyncio.run(EventBroker.create(read_endpoint_config(str(endpoints), "event_broker")))
    assert type(broker).__name__ == "QuickSQLEventBroker"
    event = {"sender_id": "conv-1", "event": "user", "timestamp": 1.0, "text": "bonjour"}
    broker.publish(event)
    broker.flush()  # the events are written by a thread, off the turn
    engine = build_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(RAW_EVENTS.c.sender_id, RAW_EVENTS.c.data)).all()
    assert [(row.sender_id, json.loads(row.data)) for row in rows] == [("conv-1", event)]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
