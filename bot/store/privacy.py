"""Personal data: erasing one user's data on request, and purging what is older than the retention age.

What is stored about a user is their conversation (Rasa's tracker store, table
``events``) and what the project keeps of it: diagnostics, workshop
participations, wrong workshop codes. No name, e-mail or IP address is stored.

- :func:`erase_conversation` (« supprimer mes données ») deletes the project's
  rows of one conversation; :func:`erase_tracker` deletes the conversation
  itself from the tracker store once Rasa has finished the turn (the web app's
  chat relay calls it when the reply says so).
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
from bot.store.db import get_engine, session_scope
from bot.store.tables import Base, CodeAttempt, Diagnostic, Workshop, WorkshopParticipant

# Rasa's SQL tracker store keeps every event of a conversation in this table (Rasa 3.6); only these
# two of its columns are used here.
TRACKER_EVENTS = table("events", column("sender_id", String), column("timestamp", Float))


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
    return counts


def _no_tracker_table(error: DBAPIError) -> bool:
    """True when Rasa has not created its events table yet: nothing is stored, nothing to delete."""
    message = str(error).lower()
    return "no such table" in message or "does not exist" in message


def _tracker_engine(tracker_engine: Engine | None) -> Engine:
    return tracker_engine or get_engine(get_settings().tracker_store_url)


def erase_tracker(conversation_id: str, tracker_engine: Engine | None = None) -> int:
    """Delete a conversation from Rasa's SQL tracker store; return the number of events deleted."""
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
          tracker_engine: Engine | None = None) -> dict[str, int]:
    """Delete diagnostics, conversations, wrong codes and ended workshops older than ``days``.

    A diagnostic counts from its last update, a conversation from its last event,
    a workshop from its end. Workshops kept by their trainer, with their
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
    counts["conversations"] = _purge_tracker(cutoff, tracker_engine)
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
