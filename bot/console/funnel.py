"""The funnel: for each question, in questionnaire order, who reached it and what happened there.

Rules (recounted with plain SQL by the « correct figures » test):

- ``reached``: distinct visitors with an ``asked`` event at that question in the period;
- ``left``: conversations started in the period, with a diagnostic started and not finished,
  whose last question is this one (where they gave up);
- ``typed`` / ``clicked``: answers typed in words or given by a button, in the period;
  ``typed_share`` is typed / (typed + clicked);
- ``not_understood`` and ``corrected``: how many times, in the period; their rates are per
  visitor who reached the question.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from bot.console.figures import in_period, share
from bot.console.period import Period
from bot.diagnostic.questionnaire import Questionnaire
from bot.store.analytics_tables import ASKED, CLICKED, CORRECTED, NOT_UNDERSTOOD, TYPED, ConversationStat, QuestionEvent


@dataclass(frozen=True)
class FunnelStep:
    question_id: str
    position: int
    text: str
    reached: int
    left: int
    typed: int
    clicked: int
    not_understood: int
    corrected: int

    @property
    def left_share(self) -> int | None:
        return share(self.left, self.reached)

    @property
    def typed_share(self) -> int | None:
        return share(self.typed, self.typed + self.clicked)

    @property
    def not_understood_rate(self) -> int | None:
        return share(self.not_understood, self.reached)

    @property
    def corrected_rate(self) -> int | None:
        return share(self.corrected, self.reached)


def funnel(session: Session, period: Period, survey: Questionnaire) -> list[FunnelStep]:
    """One step per question of ``survey``, in its order (events at unknown question ids are left out)."""
    # SQLite reads the index ix_analytics_question_events_funnel alone, in its (kind, question, visitor)
    # order: it counts distinct visitors without sorting. PostgreSQL would sort every asked event for
    # COUNT(DISTINCT); it hashes the distinct (question, visitor) pairs faster (bench/console.py).
    events = in_period(QuestionEvent.at, period)
    asked = and_(QuestionEvent.kind == ASKED, events)
    if session.get_bind().dialect.name == "sqlite":
        reached_query = (select(QuestionEvent.question_id, func.count(distinct(QuestionEvent.visitor)))
                         .where(asked).group_by(QuestionEvent.question_id))
    else:
        pairs = select(QuestionEvent.question_id, QuestionEvent.visitor).where(asked).distinct().subquery()
        reached_query = select(pairs.c.question_id, func.count()).group_by(pairs.c.question_id)
    reached = {question_id: int(count) for question_id, count in session.execute(reached_query)}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for question_id, kind, count in session.execute(
        select(QuestionEvent.question_id, QuestionEvent.kind, func.count())
        .where(QuestionEvent.kind.in_((TYPED, CLICKED, NOT_UNDERSTOOD, CORRECTED)), events)
        .group_by(QuestionEvent.kind, QuestionEvent.question_id)
    ):
        counts[question_id][kind] = count
    left = dict(session.execute(
        select(ConversationStat.last_question, func.count())
        .where(in_period(ConversationStat.started_at, period), ConversationStat.diagnostic_started_at.is_not(None),
               ConversationStat.diagnostic_finished_at.is_(None), ConversationStat.last_question.is_not(None))
        .group_by(ConversationStat.last_question)
    ).all())
    return [
        FunnelStep(
            question_id=question.id,
            position=position,
            text=question.text,
            reached=int(reached.get(question.id, 0)),
            left=int(left.get(question.id, 0)),
            typed=counts[question.id].get(TYPED, 0),
            clicked=counts[question.id].get(CLICKED, 0),
            not_understood=counts[question.id].get(NOT_UNDERSTOOD, 0),
            corrected=counts[question.id].get(CORRECTED, 0),
        )
        for position, question in enumerate(survey.questions, start=1)
    ]
