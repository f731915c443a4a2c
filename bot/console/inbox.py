"""The inbox: what the assistant did not understand, grouped by similar text, and the owner's labels.

A group is every message sharing a ``group_key`` (computed by the pipeline when it stores the
masked text). A label is given to a whole group: an answer to a question with one of its options,
an intent, or « ignored ». Only the label columns of ``analytics_inbox`` are ever written here.
The visitor key never leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from bot.console.redact import redact
from bot.diagnostic.questionnaire import Questionnaire
from bot.store.analytics_tables import LABEL_ANSWER, LABEL_IGNORED, LABEL_INTENT, InboxMessage
from bot.store.tables import utcnow

PAGE_SIZE = 20
#: The value a labelling form sends: « answer:<question>:<option> », « intent:<name> » or « ignored ».
SEPARATOR = ":"


class LabelError(ValueError):
    """A label that does not fit the questionnaire or the intents; the message is for the owner."""


@dataclass(frozen=True)
class InboxGroup:
    """Similar messages: how many, one of them (masked), the question asked, the last date, the label."""

    message_id: int
    count: int
    text: str
    question_id: str | None
    last_at: datetime
    label_kind: str | None
    label_question: str | None
    label_option: str | None
    label_intent: str | None

    @property
    def label_value(self) -> str:
        """The label as a form value (see :data:`SEPARATOR`), '' when unlabelled."""
        if self.label_kind == LABEL_ANSWER:
            return SEPARATOR.join((LABEL_ANSWER, self.label_question or "", self.label_option or ""))
        if self.label_kind == LABEL_INTENT:
            return SEPARATOR.join((LABEL_INTENT, self.label_intent or ""))
        return self.label_kind or ""


@dataclass(frozen=True)
class Label:
    kind: str
    question: str | None = None
    option: str | None = None
    intent: str | None = None


def parse_label(value: str, survey: Questionnaire, intents: frozenset[str]) -> Label:
    """A form value read and checked against the questionnaire and the known intents."""
    kind, _, rest = (value or "").partition(SEPARATOR)
    if kind == LABEL_IGNORED and not rest:
        return Label(LABEL_IGNORED)
    if kind == LABEL_INTENT and rest in intents:
        return Label(LABEL_INTENT, intent=rest)
    if kind == LABEL_ANSWER:
        question_id, _, option_id = rest.partition(SEPARATOR)
        if survey.has_question(question_id) and option_id in {option.id for option in survey.question(question_id).choices}:
            return Label(LABEL_ANSWER, question=question_id, option=option_id)
    raise LabelError("Choisissez une étiquette dans la liste proposée.")


def counts(session: Session) -> tuple[int, int]:
    """(groups, groups still to label)."""
    row = session.execute(
        select(func.count(func.distinct(InboxMessage.group_key)),
               func.count(func.distinct(case((InboxMessage.label_kind.is_(None), InboxMessage.group_key)))))
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def groups(session: Session, page: int = 1, page_size: int = PAGE_SIZE) -> list[InboxGroup]:
    """One page of groups: unlabelled first, then the most frequent, then the most recent."""
    unlabelled = func.max(case((InboxMessage.label_kind.is_(None), 1), else_=0))
    summary = (
        select(InboxMessage.group_key, func.count().label("count"), func.max(InboxMessage.id).label("latest"),
               func.max(InboxMessage.received_at).label("last_at"), unlabelled.label("unlabelled"))
        .group_by(InboxMessage.group_key)
        .order_by(unlabelled.desc(), func.count().desc(), func.max(InboxMessage.received_at).desc(),
                  InboxMessage.group_key)
        .offset(max(0, page - 1) * page_size).limit(page_size)
    ).subquery()
    rows = session.execute(
        select(summary.c.count, summary.c.last_at, InboxMessage.id, InboxMessage.text, InboxMessage.question_id,
               InboxMessage.label_kind, InboxMessage.label_question, InboxMessage.label_option,
               InboxMessage.label_intent)
        .join(InboxMessage, InboxMessage.id == summary.c.latest)
        .order_by(summary.c.unlabelled.desc(), summary.c.count.desc(), summary.c.last_at.desc(), summary.c.group_key)
    ).all()
    return [InboxGroup(message_id=row.id, count=int(row.count), text=redact(row.text), question_id=row.question_id,
                       last_at=row.last_at, label_kind=row.label_kind, label_question=row.label_question,
                       label_option=row.label_option, label_intent=row.label_intent) for row in rows]


def label_group(session: Session, message_id: int, label: Label) -> int:
    """Give ``label`` to the group of message ``message_id``; the number of messages labelled (0: unknown id)."""
    group_key = session.execute(select(InboxMessage.group_key).where(InboxMessage.id == message_id)).scalar()
    if group_key is None:
        return 0
    result = session.execute(
        update(InboxMessage).where(InboxMessage.group_key == group_key).values(
            label_kind=label.kind, label_question=label.question, label_option=label.option,
            label_intent=label.intent, labelled_at=utcnow())
    )
    return int(result.rowcount or 0)


def clear_label(session: Session, message_id: int) -> int:
    """Remove the label of the group of message ``message_id`` (it goes back to « to label »)."""
    group_key = session.execute(select(InboxMessage.group_key).where(InboxMessage.id == message_id)).scalar()
    if group_key is None:
        return 0
    result = session.execute(
        update(InboxMessage).where(InboxMessage.group_key == group_key).values(
            label_kind=None, label_question=None, label_option=None, label_intent=None, labelled_at=None)
    )
    return int(result.rowcount or 0)


def labelled_texts(session: Session) -> list[tuple[str, str | None, str | None, str | None, str]]:
    """(kind, question, option, intent, text) of every labelled message, not ignored, oldest first."""
    rows = session.execute(
        select(InboxMessage.label_kind, InboxMessage.label_question, InboxMessage.label_option,
               InboxMessage.label_intent, InboxMessage.text)
        .where(InboxMessage.label_kind.in_((LABEL_ANSWER, LABEL_INTENT))).order_by(InboxMessage.id)
    ).all()
    return [(row[0], row[1], row[2], row[3], redact(row[4])) for row in rows]
