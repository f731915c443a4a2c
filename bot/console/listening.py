"""What people asked that the base could not answer, and what they thought of their result.

Knowledge gaps are grouped like the inbox (by ``group_key``); feedback is a rate of « utile »
and the optional comments (masked by the pipeline), newest first. Both for the chosen period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.console.figures import in_period, share
from bot.console.period import Period
from bot.console.redact import redact
from bot.store.analytics_tables import Feedback, KnowledgeGap

MAX_GAPS = 100
MAX_COMMENTS = 100


@dataclass(frozen=True)
class Gap:
    count: int
    text: str
    last_at: datetime


@dataclass(frozen=True)
class Comment:
    useful: bool
    text: str
    door: str | None
    level: str | None
    given_at: datetime


@dataclass
class FeedbackSummary:
    answers: int
    useful: int
    comments: list[Comment]
    by_door: dict[str, tuple[int, int]]

    @property
    def useful_rate(self) -> int | None:
        return share(self.useful, self.answers)


def knowledge_gaps(session: Session, period: Period, limit: int = MAX_GAPS) -> tuple[int, list[Gap]]:
    """(questions without an answer in the period, their groups: most frequent first)."""
    where = in_period(KnowledgeGap.asked_at, period)
    total = int(session.execute(select(func.count()).select_from(KnowledgeGap).where(where)).scalar() or 0)
    summary = (
        select(KnowledgeGap.group_key, func.count().label("count"), func.max(KnowledgeGap.id).label("latest"),
               func.max(KnowledgeGap.asked_at).label("last_at"))
        .where(where).group_by(KnowledgeGap.group_key)
        .order_by(func.count().desc(), func.max(KnowledgeGap.asked_at).desc(), KnowledgeGap.group_key).limit(limit)
    ).subquery()
    rows = session.execute(
        select(summary.c.count, summary.c.last_at, KnowledgeGap.text)
        .join(KnowledgeGap, KnowledgeGap.id == summary.c.latest)
        .order_by(summary.c.count.desc(), summary.c.last_at.desc(), summary.c.group_key)
    ).all()
    return total, [Gap(int(row.count), redact(row.text), row.last_at) for row in rows]


def feedback(session: Session, period: Period, limit: int = MAX_COMMENTS) -> FeedbackSummary:
    """The rate of « utile » in the period, per door too, and the newest comments."""
    where = in_period(Feedback.given_at, period)
    useful = func.sum(case((Feedback.useful.is_(True), 1), else_=0))
    by_door = {door or "": (int(count), int(yes or 0)) for door, count, yes in session.execute(
        select(Feedback.door, func.count(), useful).where(where).group_by(Feedback.door))}
    comments = [
        Comment(bool(row.useful), redact(row.comment), row.door, row.level, row.given_at)
        for row in session.execute(
            select(Feedback.useful, Feedback.comment, Feedback.door, Feedback.level, Feedback.given_at)
            .where(where, Feedback.comment.is_not(None), func.length(Feedback.comment) > 0)
            .order_by(Feedback.given_at.desc(), Feedback.id.desc()).limit(limit))
    ]
    return FeedbackSummary(answers=sum(count for count, _ in by_door.values()),
                           useful=sum(yes for _, yes in by_door.values()), comments=comments, by_door=by_door)
