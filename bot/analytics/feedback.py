"""« Ce résultat vous est-il utile ? »: one :class:`~bot.store.analytics_tables.Feedback` row per answer.

Written by the action server when the feedback form ends (actions/feedback.py), not by the projection:
the action knows the answer at once and the result's door and level are read from the project database
by conversation, which the anonymous projection never keys on. The comment is masked before it is stored.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.analytics.masking import mask
from bot.store.analytics_tables import Feedback, visitor_key
from bot.store.db import session_scope
from bot.store.tables import Diagnostic

MAX_COMMENT_CHARS = 2000


def record_feedback(conversation_id: str, useful: bool, comment: str | None, engine: Engine | None = None) -> int:
    """Store the answer with the door and level of the conversation's latest result; the new row's id."""
    text = mask(comment.strip())[:MAX_COMMENT_CHARS] if comment and comment.strip() else None
    with session_scope(engine) as session:
        latest = session.execute(
            select(Diagnostic.door, Diagnostic.level)
            .where(Diagnostic.conversation_id == conversation_id, Diagnostic.door.is_not(None))
            .order_by(Diagnostic.id.desc())
            .limit(1)
        ).first()
        row = Feedback(visitor=visitor_key(conversation_id), useful=useful, comment=text,
                       door=latest.door if latest else None, level=latest.level if latest else None)
        session.add(row)
        session.flush()
        return int(row.id)
