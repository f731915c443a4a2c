"""Erasing one user's data and purging old data, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Engine

from bot import workshops
from bot.store import privacy
from bot.store.analytics_tables import (
    ConversationStat,
    Feedback,
    InboxMessage,
    KnowledgeGap,
    QuestionEvent,
    visitor_key,
)
from bot.store.db import session_scope
from bot.store.diagnostics import record_progress
from bot.store.event_store import METADATA, RAW_EVENTS, insert_events
from bot.store.tables import Base, CodeAttempt, Diagnostic, Workshop, WorkshopParticipant
from bot.workshops import record_wrong_code
from tests.databases import throwaway_engine

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=400)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with throwaway_engine(request.param, tmp_path) as created:
        Base.metadata.create_all(created)
        yield created


def tracker_table(engine: Engine) -> Table:
    """The columns of Rasa's ``events`` table that matter here (Rasa creates it in production)."""
    metadata = MetaData()
    events = Table("events", metadata, Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
                   Column("type_name", String(255)), Column("timestamp", Float))
    metadata.create_all(engine)
    return events


def add_events(engine: Engine, events: Table, sender: str, when: datetime, count: int = 3) -> None:
    with engine.begin() as connection:
        for number in range(count):
            connection.execute(insert(events).values(sender_id=sender, type_name="user",
                                                     timestamp=when.timestamp() + number))


def count(engine: Engine, model: type, **where: str) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


@pytest.fixture
def raw_events(tmp_path: Path) -> Iterator[Engine]:
    """A separate event store (the raw events of Rasa's event broker)."""
    with throwaway_engine("sqlite", tmp_path) as created:
        METADATA.create_all(created)
        yield created


def test_erasing_a_conversation_removes_its_rows_and_only_its_rows(engine: Engine, raw_events: Engine) -> None:
    events = tracker_table(engine)
    created = workshops.create_workshop("Atelier", hours=2, engine=engine)
    for sender in ("moi", "quelqu'un d'autre"):
        record_progress(sender, {"actor_type": "association"}, "size", engine)
        workshops.join(created.id, sender, engine)
        record_wrong_code(sender, engine)
        add_events(engine, events, sender, NOW)

    erased = privacy.erase_conversation("moi", engine)
    assert {name: erased[name] for name in ("diagnostics", "workshop_participations", "code_attempts")} == {
        "diagnostics": 1, "workshop_participations": 1, "code_attempts": 1}
    assert privacy.erase_tracker("moi", engine, raw_events) == 3
    for model in (Diagnostic, WorkshopParticipant, CodeAttempt):
        assert count(engine, model, conversation_id="moi") == 0
        assert count(engine, model, conversation_id="quelqu'un d'autre") == 1
    with engine.connect() as connection:
        senders = list(connection.execute(select(events.c.sender_id)).scalars())
    assert senders == ["quelqu'un d'autre"] * 3


def test_erasing_before_rasa_created_its_table_is_not_an_error(engine: Engine, raw_events: Engine) -> None:
    assert privacy.erase_tracker("personne", engine, raw_events) == 0


def test_the_purge_keeps_recent_data_and_kept_workshops(engine: Engine, raw_events: Engine) -> None:
    events = tracker_table(engine)
    kept = workshops.create_workshop("Gardé", hours=2, now=OLD, engine=engine)
    dropped = workshops.create_workshop("Oublié", hours=2, now=OLD, engine=engine)
    with engine.begin() as connection:
        connection.execute(Workshop.__table__.update().where(Workshop.id == kept.id).values(keep_results=True))
    people = {"ancien": None, "ancien-garde": kept.id, "ancien-oublie": dropped.id, "recent": None}
    for sender, workshop_id in people.items():
        if workshop_id:
            workshops.join(workshop_id, sender, engine, now=OLD)
        record_progress(sender, {"actor_type": "association"}, "size", engine)
        add_events(engine, events, sender, NOW if sender == "recent" else OLD)
    with engine.begin() as connection:  # every diagnostic but the recent one was last touched long ago
        connection.execute(Diagnostic.__table__.update().where(Diagnostic.conversation_id != "recent")
                           .values(updated_at=OLD))

    counts = privacy.purge(180, now=NOW, engine=engine, tracker_engine=engine, event_engine=raw_events)
    assert counts["diagnostics"] == 2 and counts["workshops"] == 1 and counts["conversations"] == 3
    with engine.connect() as connection:
        left = set(connection.execute(select(Diagnostic.conversation_id)).scalars())
        talking = set(connection.execute(select(events.c.sender_id)).scalars())
        workshops_left = set(connection.execute(select(Workshop.title)).scalars())
    assert left == {"recent", "ancien-garde"}
    assert talking == {"recent"}
    assert workshops_left == {"Gardé"}


def add_analytics(engine: Engine, sender: str, when: datetime) -> None:
    visitor = visitor_key(sender)
    with session_scope(engine) as session:
        session.add_all([
            ConversationStat(visitor=visitor, started_at=when, last_event_at=when, user_messages=2),
            QuestionEvent(visitor=visitor, question_id="size", kind="asked", at=when),
            InboxMessage(visitor=visitor, text="hein", group_key="hein", reason="fallback", received_at=when),
            KnowledgeGap(visitor=visitor, text="pêche", group_key="peche", asked_at=when),
            Feedback(visitor=visitor, useful=True, comment=None, given_at=when),
        ])


def add_raw(events: Engine, sender: str, when: datetime) -> None:
    with events.begin() as connection:
        insert_events(connection, [json.dumps({"sender_id": sender, "event": "user", "timestamp": when.timestamp(),
                                               "text": "mon mail est a@b.fr"})] * 2)


def analytics_rows(engine: Engine, sender: str) -> dict[str, int]:
    return {name: count(engine, table, visitor=visitor_key(sender))
            for name, table in privacy.ANALYTICS_BY_VISITOR.items()}


def test_erasing_removes_that_user_s_analytics_and_raw_events(engine: Engine, raw_events: Engine) -> None:
    for sender in ("moi", "autre"):
        add_analytics(engine, sender, NOW)
        add_raw(raw_events, sender, NOW)
    erased = privacy.erase_conversation("moi", engine)
    assert all(erased[name] == 1 for name in privacy.ANALYTICS_BY_VISITOR)
    privacy.erase_tracker("moi", engine, raw_events)
    assert set(analytics_rows(engine, "moi").values()) == {0}
    assert set(analytics_rows(engine, "autre").values()) == {1}
    with raw_events.connect() as connection:
        assert list(connection.execute(select(RAW_EVENTS.c.sender_id)).scalars()) == ["autre", "autre"]


def test_the_purge_covers_the_analytics_and_the_raw_events(engine: Engine, raw_events: Engine) -> None:
    add_analytics(engine, "ancien", OLD)
    add_analytics(engine, "recent", NOW)
    add_raw(raw_events, "ancien", OLD)
    add_raw(raw_events, "recent", NOW)
    counts = privacy.purge(180, now=NOW, engine=engine, tracker_engine=engine, event_engine=raw_events)
    assert all(counts[name] == 1 for name in privacy.ANALYTICS_BY_VISITOR) and counts["raw_events"] == 2
    assert set(analytics_rows(engine, "ancien").values()) == {0}
    assert set(analytics_rows(engine, "recent").values()) == {1}
    with raw_events.connect() as connection:
        assert list(connection.execute(select(RAW_EVENTS.c.sender_id)).scalars()) == ["recent", "recent"]


def test_the_purge_needs_a_positive_age(engine: Engine) -> None:
    with pytest.raises(ValueError):
        privacy.purge(0, engine=engine)
