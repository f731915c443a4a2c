"""The diagnostics repository: one row per diagnostic, updated in place while in progress, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.store.db import session_scope
from bot.store.diagnostics import COMPLETED, IN_PROGRESS, record_progress, record_result
from bot.store.tables import Base, Diagnostic
from tests.databases import throwaway_engine

RESULT = {"door": "territoire", "level": "decouverte", "maturity": 20}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with throwaway_engine(request.param, tmp_path) as created:
        Base.metadata.create_all(created)
        yield created


def rows(engine: Engine, conversation_id: str = "c1") -> list[tuple[str, dict, str | None]]:
    with session_scope(engine) as session:
        found = session.execute(select(Diagnostic).where(Diagnostic.conversation_id == conversation_id)
                                .order_by(Diagnostic.id)).scalars()
        return [(row.status, dict(row.answers), row.current_question) for row in found]


def test_answers_update_the_diagnostic_in_progress(engine: Engine) -> None:
    record_progress("c1", {}, "actor_type", engine)
    record_progress("c1", {"actor_type": "association"}, "size", engine)
    record_progress("c1", {"actor_type": "association", "size": "tpe"}, "scale", engine)
    record_progress("c2", {"actor_type": "entreprise"}, "size", engine)
    assert rows(engine) == [(IN_PROGRESS, {"actor_type": "association", "size": "tpe"}, "scale")]
    assert rows(engine, "c2") == [(IN_PROGRESS, {"actor_type": "entreprise"}, "size")]


def test_a_finished_diagnostic_is_kept_and_a_new_one_starts(engine: Engine) -> None:
    answers = {"actor_type": "association"}
    record_progress("c1", answers, "size", engine)
    record_result("c1", answers, RESULT, engine)
    record_progress("c1", answers, None, engine)  # the result shown again: not a new diagnostic
    assert rows(engine) == [(COMPLETED, answers, None)]
    record_progress("c1", {}, "actor_type", engine)
    record_progress("c1", {"actor_type": "fondation"}, "size", engine)
    assert rows(engine) == [(COMPLETED, answers, None), (IN_PROGRESS, {"actor_type": "fondation"}, "size")]


def test_only_the_newest_diagnostic_is_updated(engine: Engine) -> None:
    with session_scope(engine) as session:  # an older diagnostic left in progress, then a newer finished one
        session.add_all([Diagnostic(conversation_id="c1", status=IN_PROGRESS, answers={"size": "pme"}),
                         Diagnostic(conversation_id="c1", status=COMPLETED, answers={"size": "tpe"})])
    record_progress("c1", {"size": "grande"}, "scale", engine)
    assert rows(engine) == [(IN_PROGRESS, {"size": "pme"}, None), (COMPLETED, {"size": "tpe"}, None),
                            (IN_PROGRESS, {"size": "grande"}, "scale")]
