"""The raw event table that Rasa's event broker fills, and how its rows are deleted.

Rasa's SQL event broker (``make run``) writes every conversation event into a table ``events``
(``id``, ``sender_id``, ``data``: the event as JSON) of the event store database (``EVENT_STORE_URL``);
in production mode bot/analytics/consumer.py writes the messages of RabbitMQ into the same table.
bot/analytics/projector.py reads it and deletes what it projected: the events hold unmasked text.

Deleting never removes the row with the highest id: it is blanked instead (``sender_id`` "", ``data``
"{}"). SQLite gives a new row the highest id plus one, so an emptied table would hand out ids the
projection's cursor has already passed, and those events would be skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, and_, delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from bot.settings import get_settings
from bot.store.db import get_engine

METADATA = MetaData()
#: The same shape as Rasa's SQL event broker's table (rasa/core/brokers/sql.py).
RAW_EVENTS = Table(
    "events",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),
)
BLANK = "{}"


def event_store_engine(url: str | None = None) -> Engine:
    """The engine of the event store (default: ``EVENT_STORE_URL``), its table created if missing."""
    engine = get_engine(url or get_settings().event_store_url)
    METADATA.create_all(engine)
    return engine


def insert_events(connection: Connection, bodies: Iterable[bytes | str]) -> int:
    """Insert raw events (JSON as Rasa publishes them); how many. The caller commits."""
    rows = []
    for body in bodies:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            sender = json.loads(text).get("sender_id")
        except (ValueError, AttributeError):
            sender = None
        rows.append({"sender_id": str(sender)[:255] if sender is not None else None, "data": text})
    if rows:
        connection.execute(RAW_EVENTS.insert(), rows)
    return len(rows)


def delete_raw_events(connection: Connection, condition: ColumnElement[bool]) -> int:
    """Delete the events matching ``condition``, blanking the one with the highest id (see the module docstring)."""
    highest = connection.execute(select(func.max(RAW_EVENTS.c.id))).scalar()
    if highest is None:
        return 0
    deleted = connection.execute(delete(RAW_EVENTS).where(and_(condition, RAW_EVENTS.c.id != highest))).rowcount or 0
    blanked = connection.execute(
        update(RAW_EVENTS).where(and_(condition, RAW_EVENTS.c.id == highest, RAW_EVENTS.c.data != BLANK))
        .values(sender_id="", data=BLANK)
    ).rowcount or 0
    return deleted + blanked


def erase_raw_events(conversation_id: str, engine: Engine | None = None) -> int:
    """Delete the raw events of one conversation (« supprimer mes données »); how many."""
    with (engine or event_store_engine()).begin() as connection:
        return delete_raw_events(connection, RAW_EVENTS.c.sender_id == conversation_id)


def purge_raw_events(cutoff: datetime, engine: Engine | None = None, chunk: int = 1000) -> int:
    """Delete the raw events older than ``cutoff`` (by the timestamp inside each event); how many.

    The projection deletes events within seconds, so only events it could not read (a stopped web app)
    are ever this old.
    """
    limit, count, after = cutoff.timestamp(), 0, 0
    with (engine or event_store_engine()).begin() as connection:
        while True:
            rows = connection.execute(select(RAW_EVENTS.c.id, RAW_EVENTS.c.data).where(RAW_EVENTS.c.id > after)
                                      .order_by(RAW_EVENTS.c.id).limit(chunk)).all()
            if not rows:
                return count
            old = [row.id for row in rows if _timestamp(row.data) < limit]
            if old:
                count += delete_raw_events(connection, RAW_EVENTS.c.id.in_(old))
            after = rows[-1].id


def _timestamp(data: str | None) -> float:
    try:
        value = json.loads(data or BLANK).get("timestamp")
    except (ValueError, AttributeError):
        return float("inf")
    return float(value) if isinstance(value, (int, float)) else float("inf")
