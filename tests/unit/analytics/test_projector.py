"""The projection of Rasa's events into the analytics tables, on synthetic conversations (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.analytics.projector import project_pending
from bot.store.analytics_tables import (
    ConversationStat,
    InboxMessage,
    KnowledgeGap,
    ProjectionCursor,
    QuestionEvent,
    visitor_key,
)
from bot.store.db import session_scope
from bot.store.event_store import METADATA, RAW_EVENTS
from bot.store.tables import Base
from tests.databases import throwaway_engine
from tests.unit.analytics.events import Script, full_diagnostic, publish


@pytest.fixture(params=["sqlite", "postgresql"])
def engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """The project database and a separate event store."""
    with throwaway_engine(request.param, tmp_path) as project, throwaway_engine("sqlite", tmp_path) as events:
        Base.metadata.create_all(project)
        METADATA.create_all(events)
        yield project, events


def project(engines: tuple[Engine, Engine], max_events: int | None = None) -> int:
    return project_pending(max_events, engine=engines[0], event_engine=engines[1])


def kinds(engine: Engine, sender: str) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [tuple(row) for row in session.execute(
            select(QuestionEvent.question_id, QuestionEvent.kind).where(QuestionEvent.visitor == visitor_key(sender))
            .order_by(QuestionEvent.at, QuestionEvent.id))]


def stat(engine: Engine, sender: str) -> ConversationStat | None:
    with session_scope(engine) as session:
        return session.get(ConversationStat, visitor_key(sender))


def raw_texts(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row.data for row in connection.execute(select(RAW_EVENTS.c.data))]


def test_a_finished_diagnostic_by_buttons(engines: tuple[Engine, Engine]) -> None:
    script = full_diagnostic(Script("finished")).result()
    publish(engines[1], script)
    assert project(engines) == len(script.events)
    events = kinds(engines[0], "finished")
    assert Counter(kind for _, kind in events) == {"asked": 13, "clicked": 13}
    assert events[:3] == [("actor_type", "asked"), ("actor_type", "clicked"), ("size", "asked")]
    row = stat(engines[0], "finished")
    assert row is not None and row.diagnostic_started_at is not None and row.diagnostic_finished_at is not None
    assert row.user_messages == 15 and row.last_question == "horizon" and row.turn is None
    assert raw_texts(engines[1]) == ["{}"]  # projected events are gone; the last one stays, blanked


def test_abandoned_typed_not_understood_interrupted_and_fallback(engines: tuple[Engine, Engine]) -> None:
    script = Script("left").start().answer("actor_type", "asso", typed="on est une asso", next_question="size")
    script.interruption("size").not_understood("size", "écrivez-moi à jean.dupont@example.org")
    script.fallback("blablabla 06 12 34 56 78", question="size")
    publish(engines[1], script)
    project(engines)
    assert kinds(engines[0], "left") == [("actor_type", "asked"), ("actor_type", "typed"), ("size", "asked"),
                                         ("size", "not_understood"), ("size", "not_understood")]
    row = stat(engines[0], "left")
    assert row is not None and row.diagnostic_finished_at is None and row.last_question == "size"
    with session_scope(engines[0]) as session:
        inbox = [(m.text, m.reason, m.question_id, m.group_key) for m in session.execute(
            select(InboxMessage).order_by(InboxMessage.id)).scalars()]
    assert inbox == [("écrivez-moi à [e-mail]", "not_an_answer", "size", "ecrivez moi a e mail"),
                     ("blablabla [téléphone]", "fallback", "size", "blablabla telephone")]


def test_a_fallback_outside_the_questionnaire_and_a_knowledge_gap(engines: tuple[Engine, Engine]) -> None:
    script = Script("outside").user("bonjour", "greet").action("utter_greet").bot("Bonjour", "utter_greet").listen()
    script.fallback("xyzzy plugh").gap("des outils pour la pêche au gros ?")
    publish(engines[1], script)
    project(engines)
    assert kinds(engines[0], "outside") == []
    with session_scope(engines[0]) as session:
        assert [(m.reason, m.question_id) for m in session.execute(select(InboxMessage)).scalars()] == [
            ("fallback", None)]
        assert [gap.group_key for gap in session.execute(select(KnowledgeGap)).scalars()] == [
            "des outils pour la peche au gros"]
    row = stat(engines[0], "outside")
    assert row is not None and row.diagnostic_started_at is None and row.user_messages == 3


def test_corrections_in_words_and_by_the_button_of_another_question(engines: tuple[Engine, Engine]) -> None:
    script = Script("fix").start().answer("actor_type", "asso", next_question="size")
    script.user('/answer{"question_id": "actor_type", "choice": "entreprise"}', "answer", {"question_id": "actor_type"})
    script.action("diagnostic_form").bot("J'ai mis à jour", "utter_answer_changed").slot("actor_type", "entreprise")
    script.slot("requested_slot", "size").bot("Question").listen()
    script.correct("non, on est une collectivité", "actor_type", "collectivite")
    publish(engines[1], script)
    project(engines)
    assert kinds(engines[0], "fix") == [("actor_type", "asked"), ("actor_type", "clicked"), ("size", "asked"),
                                        ("actor_type", "corrected"), ("actor_type", "corrected")]


def test_small_batches_cut_turns_and_give_the_same_rows(engines: tuple[Engine, Engine]) -> None:
    one = full_diagnostic(Script("a")).result()
    two = Script("b").start().not_understood("actor_type", "hein ?").answer("actor_type", "x", next_question="size")
    publish(engines[1], one, two, interleave=True)
    total = len(one.events) + len(two.events)
    projected = [project(engines, max_events=7) for _ in range(total // 7 + 2)]
    assert sum(projected) == total and projected[-1] == 0
    assert Counter(kind for _, kind in kinds(engines[0], "a")) == {"asked": 13, "clicked": 13}
    assert kinds(engines[0], "b") == [("actor_type", "asked"), ("actor_type", "not_understood"),
                                      ("actor_type", "clicked"), ("size", "asked")]


def test_the_cursor_makes_it_idempotent_and_ids_never_go_back(engines: tuple[Engine, Engine]) -> None:
    publish(engines[1], Script("c").start())
    first = project(engines)
    assert first > 0 and project(engines) == 0
    with session_scope(engines[0]) as session:
        cursor = session.get(ProjectionCursor, "rasa_events")
        assert cursor is not None and cursor.last_id == first
    publish(engines[1], Script("d").start())  # SQLite would reuse ids in an emptied table: the blank row prevents it
    assert project(engines) == first
    with session_scope(engines[0]) as session:
        assert session.execute(select(func.count()).select_from(QuestionEvent)).scalar() == 2


def test_the_erasure_in_the_conversation_deletes_what_was_projected(engines: tuple[Engine, Engine]) -> None:
    before = Script("gone").start().not_understood("actor_type", "mon siret 123 456 789")
    publish(engines[1], before)
    project(engines)
    assert kinds(engines[0], "gone")
    after = Script("gone", start=before.clock).erase()
    publish(engines[1], after)
    project(engines)
    assert kinds(engines[0], "gone") == [] and stat(engines[0], "gone") is None
    with session_scope(engines[0]) as session:
        assert session.execute(select(func.count()).select_from(InboxMessage)).scalar() == 0
