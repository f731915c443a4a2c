"""Diagnostics repository: progress and results of the questionnaire, per conversation.

The conversation's slots (in Rasa's tracker store) are what the dialogue runs
on; this module keeps the project's own record of each diagnostic so that the
web app, reports and exports can read it without Rasa. A conversation has at
most one diagnostic in progress; restarting after a result starts a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.store.db import session_scope
from bot.store.tables import Diagnostic, utcnow

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
ABANDONED = "abandoned"
# How many of a conversation's latest diagnostics are searched for its previous result.
PREVIOUS_LOOKBACK = 10

Answers = Mapping[str, Any]


def _latest(session: Session, conversation_id: str) -> Diagnostic | None:
    query = (
        select(Diagnostic)
        .where(Diagnostic.conversation_id == conversation_id)
        .order_by(Diagnostic.id.desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()


def _open_diagnostic(session: Session, conversation_id: str, latest: Diagnostic | None) -> Diagnostic:
    """``latest`` (the conversation's newest diagnostic, already read) if in progress, else a new one."""
    diagnostic = latest
    if diagnostic is None or diagnostic.status != IN_PROGRESS:
        diagnostic = Diagnostic(conversation_id=conversation_id, status=IN_PROGRESS, answers={})
        session.add(diagnostic)
    return diagnostic


def record_progress(
    conversation_id: str, answers: Answers, current_question: str | None, engine: Engine | None = None
) -> None:
    """Store the answers given so far and the question being asked."""
    with session_scope(engine) as session:
        # The common case, a diagnostic in progress, in one statement: at every answer, the ORM's read then
        # write was a fifth of the action server's CPU (docs/performance.md).
        newest = (select(func.max(Diagnostic.id)).where(Diagnostic.conversation_id == conversation_id)
                  .scalar_subquery())
        in_progress = (update(Diagnostic).where(Diagnostic.id == newest, Diagnostic.status == IN_PROGRESS)
                       .values(answers=dict(answers), current_question=current_question, updated_at=utcnow())
                       .execution_options(synchronize_session=False))
        if session.execute(in_progress).rowcount == 1:
            return
        diagnostic = _latest(session, conversation_id)
        if diagnostic is not None and diagnostic.status == COMPLETED and dict(diagnostic.answers) == dict(answers):
            return  # the finished diagnostic is being shown again, not a new one
        diagnostic = _open_diagnostic(session, conversation_id, diagnostic)
        diagnostic.answers = dict(answers)
        diagnostic.current_question = current_question
        diagnostic.updated_at = utcnow()


def record_result(
    conversation_id: str, answers: Answers, result: Mapping[str, Any], engine: Engine | None = None,
    *, correction: bool = False,
) -> None:
    """Mark the conversation's diagnostic complete with its result (idempotent on a retry).

    ``correction``: an answer was corrected after the result: the completed diagnostic is updated in place
    (its answers, its result), not stored a second time.
    """
    with session_scope(engine) as session:
        diagnostic = _latest(session, conversation_id)
        if diagnostic is not None and diagnostic.status == COMPLETED and dict(diagnostic.answers) == dict(answers):
            return
        if not (correction and diagnostic is not None and diagnostic.status == COMPLETED):
            diagnostic = _open_diagnostic(session, conversation_id, diagnostic)
        now = utcnow()
        diagnostic.answers = dict(answers)
        diagnostic.current_question = None
        diagnostic.status = COMPLETED
        diagnostic.updated_at = now
        diagnostic.completed_at = now
        diagnostic.door = result.get("door")
        diagnostic.level = result.get("level")
        diagnostic.maturity = result.get("maturity")
        diagnostic.result = dict(result)


def previous_result(conversation_id: str, answers: Answers, engine: Engine | None = None,
                    *, correction: bool = False) -> dict[str, Any] | None:
    """The result of the conversation's previous completed diagnostic, with its ``completed_at``, or None.

    The latest diagnostic, completed with these same ``answers``, is the one being shown again (a
    retried turn), not a previous one: it is skipped; so is the latest completed one when it is being
    corrected (``correction``).
    """
    query = (
        select(Diagnostic)
        .where(Diagnostic.conversation_id == conversation_id)
        .order_by(Diagnostic.id.desc())
        .limit(PREVIOUS_LOOKBACK)
    )
    with session_scope(engine) as session:
        rows = list(session.execute(query).scalars())
    for position, diagnostic in enumerate(rows):
        if diagnostic.status != COMPLETED or not diagnostic.result:
            continue
        if position == 0 and (correction or dict(diagnostic.answers) == dict(answers)):
            continue
        return {**diagnostic.result, "completed_at": _iso(diagnostic.completed_at)}
    return None


def abandon(conversation_id: str, engine: Engine | None = None) -> None:
    """Close the diagnostic in progress (the user restarts from scratch)."""
    with session_scope(engine) as session:
        diagnostic = _latest(session, conversation_id)
        if diagnostic is not None and diagnostic.status == IN_PROGRESS:
            diagnostic.status = ABANDONED
            diagnostic.updated_at = utcnow()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def get_state(conversation_id: str, total_questions: int, engine: Engine | None = None) -> dict[str, Any] | None:
    """The latest diagnostic of a conversation as the JSON of the diagnostic API, or None."""
    with session_scope(engine) as session:
        diagnostic = _latest(session, conversation_id)
        if diagnostic is None:
            return None
        answers = diagnostic.answers_dict()
        state: dict[str, Any] = {
            "conversation_id": conversation_id,
            "status": diagnostic.status,
            "answers": answers,
            "answered": list(answers),
            "current_question": diagnostic.current_question,
            "progress": {
                "answered": len(answers),
                "total": total_questions,
                "percent": round(100 * len(answers) / total_questions) if total_questions else 0,
            },
            "started_at": _iso(diagnostic.started_at),
            "updated_at": _iso(diagnostic.updated_at),
            "completed_at": _iso(diagnostic.completed_at),
        }
        if diagnostic.status == COMPLETED and diagnostic.result:
            state.update(diagnostic.result)
        return state
