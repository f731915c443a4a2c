"""Personal data: erasing one user's data on request, and purging what is older than the retention age.

What is stored about a user is their conversation (Rasa's tracker store, table
``events``) and what the project keeps of it: diagnostics, workshop
participations, wrong workshop codes, and the anonymous analytics rows
(bot/store/analytics_tables.py: keyed by a one-way key of the conversation, text
masked) with the raw events Rasa's event broker leaves until they are projected
(bot/store/event_store.py). No name, e-mail or IP address is stored.

- :func:`erase_conversation` (« supprimer mes données ») deletes the project's
  rows of one conversation, its analytics rows included; :func:`erase_tracker` deletes the
  conversation itself from the tracker store, and its raw events from the event store, once Rasa
  has finished the turn (the web app's chat relay calls it when the reply says so).
- :func:`purge` (``python -m bot.store.privacy purge``) deletes what is older than
  ``RETENTION_DAYS``, except the diagnostics of workshops whose trainer chose
  to keep the results (``workshops.keep_results``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from sqlalchemy import Float, String, column, delete, func, select, table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.settings import get_settings
from bot.store.analytics_tables import (
    ConversationStat,
    Feedback,
    InboxMessage,
    KnowledgeGap,
    QuestionEvent,
    visitor_key,
)
from bot.store.db import get_engine, session_scope
from bot.store.event_store import erase_raw_events, event_store_engine, purge_raw_events
from bot.store.tables import Base, CodeAttempt, Diagnostic, Workshop, WorkshopParticipant

# Rasa's SQL tracker store keeps every event of a conversation in this table (Rasa 3.6); only these
# two of its columns are used here.
TRACKER_EVENTS = table("events", column("sender_id", String), column("timestamp", Float))


#: The analytics tables, each with its visitor key and the date a row counts from for the retention.
ANALYTICS_BY_VISITOR = {"analytics_conversations": ConversationStat, "analytics_question_events": QuestionEvent,
                        "analytics_inbox": InboxMessage, "analytics_knowledge_gaps": KnowledgeGap,
                        "analytics_feedback": Feedback}
ANALYTICS_DATES = {"analytics_conversations": ConversationStat.last_event_at, "analytics_question_events": QuestionEvent.at,
                   "analytics_inbox": InboxMessage.received_at, "analytics_knowledge_gaps": KnowledgeGap.asked_at,
                   "analytics_feedback": Feedback.given_at}


def erase_conversation(conversation_id: str, engine: Engine | None = None) -> dict[str, int]:
    """Delete the project's data of one conversation; return how many rows of each kind went."""
    with session_scope(engine) as session:
        counts = {
            "diagnostics": session.execute(
                delete(Diagnostic).where(Diagnostic.conversation_id == conversation_id)).rowcount,
            "workshop_participations": session.execute(
                delete(WorkshopParticipant).where(WorkshopParticipant.conversation_id == conversation_id)).rowcount,
            "code_attempts": session.execute(
                delete(CodeAttempt).where(CodeAttempt.conversation_id == conversation_id)).rowcount,
        }
        visitor = visitor_key(conversation_id)
        for name, table in ANALYTICS_BY_VISITOR.items():
            counts[name] = session.execute(delete(table).where(table.visitor == visitor)).rowcount
    return counts


def _no_tracker_table(error: DBAPIError) -> bool:
    """True when Rasa has not created its events table yet: nothing is stored, nothing to delete."""
    message = str(error).lower()
    return "no such table" in message or "does not exist" in message


def _tracker_engine(tracker_engine: Engine | None) -> Engine:
    return tracker_engine or get_engine(get_settings().tracker_store_url)


def erase_tracker(conversation_id: str, tracker_engine: Engine | None = None, event_engine: Engine | None = None) -> int:
    """Delete a conversation from Rasa's SQL tracker store and its raw events from the event store; return the
    number of tracker events deleted."""
    erase_raw_events(conversation_id, event_engine or event_store_engine())
    engine = _tracker_engine(tracker_engine)
    try:
        with engine.begin() as connection:
            result = connection.execute(delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.sender_id == conversation_id))
    except DBAPIError as error:
        if _no_tracker_table(error):
            return 0
        raise
    return result.rowcount or 0


def purge(days: float, *, now: datetime | None = None, engine: Engine | None = None,
          tracker_engine: Engine | None = None, event_engine: Engine | None = None) -> dict[str, int]:
    """Delete diagnostics, conversations, wrong codes, ended workshops and analytics older than ``days``.

    A diagnostic counts from its last update, a conversation from its last event,
    a workshop from its end, an analytics row from its date (a conversation's from its last event). Workshops kept by their trainer, with their
    participants' diagnostics, are left as they are.
    """
    if days <= 0:
        raise ValueError("the retention age must be positive")
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    kept_conversations = (
        select(WorkshopParticipant.conversation_id)
        .join(Workshop, Workshop.id == WorkshopParticipant.workshop_id)
        .where(Workshop.keep_results.is_(True))
    )
    with session_scope(engine) as session:
        counts = {
            "diagnostics": session.execute(
                delete(Diagnostic)
                .where(Diagnostic.updated_at < cutoff, Diagnostic.conversation_id.not_in(kept_conversations))
                .execution_options(synchronize_session=False)
            ).rowcount,
            "code_attempts": session.execute(delete(CodeAttempt).where(CodeAttempt.attempted_at < cutoff)).rowcount,
        }
        ended = select(Workshop.id).where(
            Workshop.keep_results.is_(False),
            func.coalesce(Workshop.closed_at, Workshop.expires_at) < cutoff,
            Workshop.expires_at < cutoff,
        )
        ended_ids = list(session.execute(ended).scalars())
        session.execute(delete(WorkshopParticipant).where(WorkshopParticipant.workshop_id.in_(ended_ids)))
        counts["workshops"] = session.execute(delete(Workshop).where(Workshop.id.in_(ended_ids))).rowcount
        for name, date in ANALYTICS_DATES.items():
            counts[name] = session.execute(delete(date.class_).where(date < cutoff)).rowcount
    counts["conversations"] = _purge_tracker(cutoff, tracker_engine)
    counts["raw_events"] = purge_raw_events(cutoff, event_engine or event_store_engine())
    return counts


def _purge_tracker(cutoff: datetime, tracker_engine: Engine | None) -> int:
    """Delete the conversations whose last event is older than ``cutoff``; return how many."""
    engine = _tracker_engine(tracker_engine)
    stale = (
        select(TRACKER_EVENTS.c.sender_id)
        .group_by(TRACKER_EVENTS.c.sender_id)
        .having(func.max(TRACKER_EVENTS.c.timestamp) < cutoff.timestamp())
    )
    try:
        with engine.begin() as connection:
            senders = list(connection.execute(stale).scalars())
            for sender in senders:
                connection.execute(delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.sender_id == sender))
    except DBAPIError as error:
        if _no_tracker_table(error):
            return 0
        raise
    return len(senders)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.store.privacy", description="Données personnelles.")
    commands = parser.add_subparsers(dest="command", required=True)
    purge_command = commands.add_parser("purge", help="effacer ce qui dépasse la durée de conservation")
    purge_command.add_argument("--days", type=float, default=None, help="par défaut : RETENTION_DAYS des réglages")
    erase_command = commands.add_parser("erase", help="effacer les données d'une conversation")
    erase_command.add_argument("--conversation", required=True)
    args = parser.parse_args(argv)
    Base.metadata.create_all(get_engine())
    if args.command == "erase":
        counts = erase_conversation(args.conversation)
        counts["conversation_events"] = erase_tracker(args.conversation)
    else:
        days = args.days if args.days is not None else get_settings().retention_days
        counts = purge(days)
        print(f"Durée de conservation : {days:g} jours.")
    print(", ".join(f"{kind} : {count}" for kind, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
