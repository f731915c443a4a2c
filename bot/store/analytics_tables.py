"""Anonymous usage tables, read by the owner's console (``/admin``).

Rasa's event broker carries every conversation event (the SQL broker by default, RabbitMQ in
production mode); :mod:`bot.analytics` turns those events into the rows below and then drops the raw
events. No row holds a conversation id: ``visitor`` is a one-way key of it (:func:`visitor_key`), so
that « supprimer mes données » can still find that user's rows, while the console never shows it.
Typed text is masked (e-mail addresses, phone numbers, long digit strings) before it is stored.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, Text, inspect, text
from sqlalchemy.engine import Engine

from bot.store.tables import Base, utcnow

#: Kinds of :class:`QuestionEvent`.
ASKED, TYPED, CLICKED, NOT_UNDERSTOOD, CORRECTED = "asked", "typed", "clicked", "not_understood", "corrected"
QUESTION_EVENT_KINDS = (ASKED, TYPED, CLICKED, NOT_UNDERSTOOD, CORRECTED)
#: Why a message is in the inbox.
INBOX_FALLBACK, INBOX_NOT_AN_ANSWER = "fallback", "not_an_answer"
#: Labels an owner gives to an inbox message.
LABEL_ANSWER, LABEL_INTENT, LABEL_IGNORED = "answer", "intent", "ignored"


def visitor_key(conversation_id: str) -> str:
    """The one-way key that stands for a conversation in the analytics tables."""
    return hashlib.sha256(f"alliance-analytics:{conversation_id}".encode()).hexdigest()[:32]


class ConversationStat(Base):
    """One conversation, as counts and dates only."""

    __tablename__ = "analytics_conversations"

    visitor = Column(String(32), primary_key=True)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    last_event_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    user_messages = Column(Integer, nullable=False, default=0)
    diagnostic_started_at = Column(DateTime(timezone=True), nullable=True)
    diagnostic_finished_at = Column(DateTime(timezone=True), nullable=True)
    #: The question being asked at the last event (where an unfinished diagnostic was left).
    last_question = Column(String(64), nullable=True)
    # The projection's state between two batches of events (bot/analytics/projector.py), never shown:
    #: the question the questionnaire waits for now (None when it is not running);
    asking = Column(String(64), nullable=True)
    #: Rasa's active loop (form) now;
    active_loop = Column(String(64), nullable=True)
    #: the user's latest message while its turn is not over: masked text, the question asked, what happened.
    turn = Column(JSON, nullable=True)


class QuestionEvent(Base):
    """Something that happened at one question: asked, answered (typed or clicked), not understood, corrected."""

    __tablename__ = "analytics_question_events"

    id = Column(Integer, primary_key=True, autoincrement=True)
    visitor = Column(String(32), nullable=False, index=True)
    question_id = Column(String(64), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class InboxMessage(Base):
    """A message the assistant did not understand, masked, for the owner to label."""

    __tablename__ = "analytics_inbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    visitor = Column(String(32), nullable=False, index=True)
    text = Column(Text, nullable=False)
    #: Similar messages share this key (lower case, no accents, no punctuation, spaces collapsed).
    group_key = Column(String(200), nullable=False, index=True)
    question_id = Column(String(64), nullable=True)
    reason = Column(String(16), nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    label_kind = Column(String(16), nullable=True)
    label_question = Column(String(64), nullable=True)
    label_option = Column(String(64), nullable=True)
    label_intent = Column(String(64), nullable=True)
    labelled_at = Column(DateTime(timezone=True), nullable=True)


class KnowledgeGap(Base):
    """A knowledge question that found nothing in the base (masked)."""

    __tablename__ = "analytics_knowledge_gaps"

    id = Column(Integer, primary_key=True, autoincrement=True)
    visitor = Column(String(32), nullable=False, index=True)
    text = Column(Text, nullable=False)
    group_key = Column(String(200), nullable=False, index=True)
    asked_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class Feedback(Base):
    """« Ce résultat vous est-il utile ? »: the answer, an optional masked comment, the result's door and level."""

    __tablename__ = "analytics_feedback"

    id = Column(Integer, primary_key=True, autoincrement=True)
    visitor = Column(String(32), nullable=False, index=True)
    useful = Column(Boolean, nullable=False)
    comment = Column(Text, nullable=True)
    door = Column(String(32), nullable=True)
    level = Column(String(32), nullable=True)
    given_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class ProjectionCursor(Base):
    """How far the raw events were turned into analytics rows (one row per event source)."""

    __tablename__ = "analytics_cursor"

    source = Column(String(32), primary_key=True)
    last_id = Column(Integer, nullable=False, default=0)


# The console's funnel counts events, and distinct visitors, per kind and question over a period
# (bot/console/funnel.py, bench/console.py): this index alone answers it, in its order, without sorting.
Index("ix_analytics_question_events_funnel", QuestionEvent.kind, QuestionEvent.question_id, QuestionEvent.visitor,
      QuestionEvent.at)


ANALYTICS_TABLES = (ConversationStat, QuestionEvent, InboxMessage, KnowledgeGap, Feedback, ProjectionCursor)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the nullable columns a database created by an earlier version lacks (the tables only ever gain
    columns); the ``table.column`` names added."""
    inspector = inspect(engine)
    added = []
    for model in ANALYTICS_TABLES:
        table = model.__table__
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=engine.dialect)
                with engine.begin() as connection:
                    connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
                added.append(f"{table.name}.{column.name}")
    return added
