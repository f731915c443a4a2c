"""The live figures of a workshop: who joined, who finished, doors, levels and dimension averages.

A participant's result is the latest diagnostic of their conversation **completed
after joining**, before the workshop ended (closed or expired) and before the
conversation joined another workshop. :func:`finished_participants` reads them
all in one query (a join, not one query per participant); nothing here exposes a
conversation id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased

from bot.diagnostic.questionnaire import Questionnaire
from bot.store.db import session_scope
from bot.store.diagnostics import COMPLETED
from bot.store.tables import Diagnostic, Workshop, WorkshopParticipant
from bot.workshops.repository import (
    WorkshopInfo,
    WorkshopNotFound,
    as_utc,
    iso_utc,
    workshop_info,
)


@dataclass(frozen=True)
class FinishedParticipant:
    """A participant with a counted result (no conversation id: it never leaves this module)."""

    number: int
    door: str | None
    level: str | None
    maturity: int | None
    result: dict[str, Any]
    answers: dict[str, Any]
    started_at: datetime | None
    completed_at: datetime


def get_workshop(session: Session, workshop_id: int) -> WorkshopInfo:
    row = session.get(Workshop, workshop_id)
    if row is None:
        raise WorkshopNotFound(workshop_id)
    return workshop_info(row)


def finished_participants(
    session: Session, workshop: WorkshopInfo, *, with_answers: bool
) -> tuple[int, list[FinishedParticipant]]:
    """Number of participants, and the counted result of those who finished, in join order.

    One query: participants LEFT JOIN their conversations' diagnostics completed
    after joining, before the workshop ended and before the conversation joined
    another workshop; the latest such diagnostic of each participant wins.
    """
    participant = WorkshopParticipant
    later = aliased(WorkshopParticipant)
    next_join = (
        select(func.min(later.joined_at))
        .where(later.conversation_id == participant.conversation_id, later.joined_at > participant.joined_at)
        .correlate(participant)
        .scalar_subquery()
    )
    counted = and_(
        Diagnostic.conversation_id == participant.conversation_id,
        Diagnostic.status == COMPLETED,
        Diagnostic.completed_at >= participant.joined_at,
        Diagnostic.completed_at <= workshop.ended_at,
        or_(next_join.is_(None), Diagnostic.completed_at < next_join),
    )
    columns = [
        participant.id,
        Diagnostic.id,
        Diagnostic.door,
        Diagnostic.level,
        Diagnostic.maturity,
        Diagnostic.result,
        Diagnostic.completed_at,
    ]
    if with_answers:
        columns += [Diagnostic.answers, Diagnostic.started_at]
    query = (
        select(*columns)
        .select_from(participant)
        .outerjoin(Diagnostic, counted)
        .where(participant.workshop_id == workshop.id)
        .order_by(participant.joined_at, participant.id, Diagnostic.completed_at, Diagnostic.id)
    )
    numbers: dict[int, int] = {}
    latest: dict[int, FinishedParticipant] = {}
    for row in session.execute(query):
        number = numbers.setdefault(row[0], len(numbers) + 1)
        if row[1] is None:
            continue  # joined, not finished yet
        latest[number] = FinishedParticipant(  # rows come oldest first: the last one is the latest diagnostic
            number=number,
            door=row[2],
            level=row[3],
            maturity=row[4],
            result=dict(row[5] or {}),
            answers=dict(row[7] or {}) if with_answers else {},
            started_at=as_utc(row[8]) if with_answers and row[8] is not None else None,
            completed_at=as_utc(row[6]),
        )
    return len(numbers), [latest[number] for number in sorted(latest)]


def _average(total: int, count: int) -> float:
    """``total / count`` rounded half up to one decimal (exact arithmetic; values are ≥ 0)."""
    return int(Fraction(10 * total, count) + Fraction(1, 2)) / 10


def dashboard(
    workshop_id: int, survey: Questionnaire, engine: Engine | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """The live figures of a workshop, JSON-ready and anonymous (no conversation id).

    ``doors`` and ``levels`` count the finished participants for every door and
    level of ``survey`` (zeros included; they add up to ``finished``);
    ``dimensions`` is the group's average of each dimension over the finished
    participants, rounded half up to one decimal, or None for each while nobody
    has finished; ``weakest_dimension`` is the lowest average (ties in the
    questionnaire's order) or None. ``results`` lists the finished participants,
    numbered by join order. ``WorkshopNotFound`` for an unknown id.
    """
    with session_scope(engine) as session:
        workshop = get_workshop(session, workshop_id)
        joined, finished = finished_participants(session, workshop, with_answers=False)

    doors = {door.id: 0 for door in survey.doors}
    levels = {level.id: 0 for level in survey.levels}
    totals = {dimension.id: 0 for dimension in survey.dimensions}
    counts = {dimension.id: 0 for dimension in survey.dimensions}
    results = []
    for item in finished:
        doors[item.door or ""] = doors.get(item.door or "", 0) + 1
        levels[item.level or ""] = levels.get(item.level or "", 0) + 1
        dimensions = dict(item.result.get("dimensions") or {})
        for dimension_id in totals:
            value = dimensions.get(dimension_id)
            if isinstance(value, int) and not isinstance(value, bool):
                totals[dimension_id] += value
                counts[dimension_id] += 1
        results.append(
            {
                "participant": item.number,
                "door": item.door,
                "level": item.level,
                "maturity": item.maturity,
                "dimensions": dimensions,
                "completed_at": iso_utc(item.completed_at),
            }
        )

    averages: dict[str, float | None] = {
        dimension_id: _average(totals[dimension_id], counts[dimension_id]) if counts[dimension_id] else None
        for dimension_id in totals
    }
    measured = [dimension_id for dimension_id in totals if counts[dimension_id]]
    weakest = (
        min(measured, key=lambda dimension_id: Fraction(totals[dimension_id], counts[dimension_id]))
        if measured
        else None
    )
    return {
        "title": workshop.title,
        "code": workshop.display_code,
        "created_at": iso_utc(workshop.created_at),
        "expires_at": iso_utc(workshop.expires_at),
        "closed_at": iso_utc(workshop.closed_at),
        "closed": workshop.closed,
        "open": workshop.is_open(now),
        "joined": joined,
        "finished": len(finished),
        "doors": doors,
        "levels": levels,
        "dimensions": averages,
        "weakest_dimension": weakest,
        "results": results,
    }
