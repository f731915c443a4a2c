"""The overview of a period: conversations, diagnostics, doors, levels, dimensions, workshops.

Rules (the same ones the « correct figures » test recounts with plain SQL):

- a conversation counts in the period it started in (``analytics_conversations.started_at``);
- « started »: diagnostics whose ``started_at`` is in the period; « finished »: diagnostics
  completed (``status = completed``) whose ``completed_at`` is in the period;
- the completion rate: of the diagnostics started in the period, the share completed so far;
- doors, levels and dimension averages: the diagnostics finished in the period, doors and
  levels cut into days, weeks or months (:meth:`Period.unit`);
- workshops: opened in the period, with their participants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from bot.console.period import Period
from bot.diagnostic.questionnaire import Questionnaire
from bot.store.analytics_tables import ConversationStat
from bot.store.diagnostics import COMPLETED
from bot.store.tables import Diagnostic, Workshop, WorkshopParticipant


@dataclass
class Bucket:
    """One day, week or month of the period: how many finished with each door and each level."""

    first_day: date
    label: str
    doors: dict[str, int]
    levels: dict[str, int]

    @property
    def finished(self) -> int:
        return sum(self.doors.values())


@dataclass
class Overview:
    period: Period
    conversations: int
    started: int
    started_completed: int
    finished: int
    doors: dict[str, int]
    levels: dict[str, int]
    dimensions: dict[str, float | None]
    workshops: int
    workshop_participants: int
    buckets: list[Bucket] = field(default_factory=list)

    @property
    def completion_rate(self) -> int | None:
        """Percent of the diagnostics started in the period that are completed (None: none started)."""
        return share(self.started_completed, self.started)


def share(part: int, whole: int) -> int | None:
    """``part`` as a whole percentage of ``whole``, rounded half up; None when ``whole`` is 0."""
    if whole <= 0:
        return None
    return (200 * part + whole) // (2 * whole)


def in_period(column: Any, period: Period) -> Any:
    return and_(column >= period.start, column < period.end)


def _count(session: Session, query: Any) -> int:
    return int(session.execute(query).scalar() or 0)


def dimension_averages(session: Session, period: Period, survey: Questionnaire) -> dict[str, float | None]:
    """Average of each dimension (0–100) over the diagnostics finished in the period, to one decimal."""
    finished = and_(Diagnostic.status == COMPLETED, in_period(Diagnostic.completed_at, period))
    columns = [func.avg(Diagnostic.result[("dimensions", dimension.id)].as_float()) for dimension in survey.dimensions]
    row = session.execute(select(*columns).where(finished)).one()
    return {dimension.id: (None if value is None else round(float(value), 1))
            for dimension, value in zip(survey.dimensions, row, strict=True)}


def overview(session: Session, period: Period, survey: Questionnaire) -> Overview:
    """Every figure of the overview page for ``period``."""
    conversations = _count(session, select(func.count()).select_from(ConversationStat)
                           .where(in_period(ConversationStat.started_at, period)))
    started_rows = session.execute(
        select(Diagnostic.status, func.count()).where(in_period(Diagnostic.started_at, period)).group_by(Diagnostic.status)
    ).all()
    started = sum(count for _, count in started_rows)
    started_completed = sum(count for status, count in started_rows if status == COMPLETED)

    doors = {door.id: 0 for door in survey.doors}
    levels = {level.id: 0 for level in survey.levels}
    first_days = period.buckets()
    buckets = [Bucket(first_day, period.bucket_label(first_day), dict(doors), dict(levels)) for first_day in first_days]
    finished = 0
    # Counted in the database, grouped by bucket, door and level (at most a few hundred rows come back):
    # the bucket of a row is the number of bucket starts (the owner's midnights, in UTC) it is at or after.
    starts = [period.start_of(first_day) for first_day in first_days[1:]]
    bucket_index = case(*((Diagnostic.completed_at < start, index) for index, start in enumerate(starts)),
                        else_=len(starts)) if starts else literal(0)
    for index, door, level, count in session.execute(
        select(bucket_index, Diagnostic.door, Diagnostic.level, func.count())
        .where(Diagnostic.status == COMPLETED, in_period(Diagnostic.completed_at, period))
        .group_by(bucket_index, Diagnostic.door, Diagnostic.level)
    ):
        finished += count
        doors[door or ""] = doors.get(door or "", 0) + count
        levels[level or ""] = levels.get(level or "", 0) + count
        bucket = buckets[int(index)]
        bucket.doors[door or ""] = bucket.doors.get(door or "", 0) + count
        bucket.levels[level or ""] = bucket.levels.get(level or "", 0) + count

    workshop_rows = session.execute(
        select(Workshop.id, func.count(WorkshopParticipant.id))
        .outerjoin(WorkshopParticipant, WorkshopParticipant.workshop_id == Workshop.id)
        .where(in_period(Workshop.created_at, period)).group_by(Workshop.id)
    ).all()
    return Overview(
        period=period,
        conversations=conversations,
        started=started,
        started_completed=started_completed,
        finished=finished,
        doors=doors,
        levels=levels,
        dimensions=dimension_averages(session, period, survey),
        workshops=len(workshop_rows),
        workshop_participants=sum(count for _, count in workshop_rows),
        buckets=buckets,
    )
