"""The projection: Rasa's raw events become the anonymous rows of the analytics tables, then are deleted.

:func:`project_pending` reads the raw events after the cursor (:class:`ProjectionCursor`), in id order,
and applies them conversation by conversation. A turn (a user message, then what the assistant did, up
to ``action_listen``) is judged once it is over; a turn cut between two batches waits in
``ConversationStat.turn``. The rules follow what our actions really do:

- ``requested_slot`` set to a question while ``diagnostic_form`` runs: ``asked`` (once per move to a
  question: the form asking the same question again after an interruption is not a new ``asked``);
- the asked question's slot set during the turn: ``typed``, or ``clicked`` when the message was a button
  payload (it starts with "/");
- ``action_default_fallback``, or ``utter_not_understood_answer`` / ``_again`` (validate_diagnostic_form),
  while a question is asked: ``not_understood`` and an inbox message (reason ``fallback`` or
  ``not_an_answer``); a fallback with no question asked: an inbox message only;
- the intents ``correct`` / ``change_answer``, or an answer button of another question than the one
  asked: ``corrected`` for each question whose answer changed or was cleared;
- ``diagnostic_form`` activated: the diagnostic started; the slot ``result_shown`` set: it finished;
- ``utter_no_results``, ``utter_unknown_subject``, ``utter_unknown_figure`` (a knowledge question that
  found nothing in the base): a knowledge gap;
- ``action_delete_my_data``: every row of the conversation so far is deleted.

Text is masked (:mod:`.masking`) before it is stored; no row holds a conversation id, only
:func:`~bot.store.analytics_tables.visitor_key`. The rows and the cursor are written in one transaction
of the project database; the projected raw events are deleted after it commits (a crash in between
leaves them behind the cursor, where the next run deletes them).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.analytics.masking import group_key, mask
from bot.store.analytics_tables import (
    ASKED,
    CLICKED,
    CORRECTED,
    INBOX_FALLBACK,
    INBOX_NOT_AN_ANSWER,
    NOT_UNDERSTOOD,
    TYPED,
    ConversationStat,
    Feedback,
    InboxMessage,
    KnowledgeGap,
    ProjectionCursor,
    QuestionEvent,
    visitor_key,
)
from bot.store.db import get_engine, session_scope
from bot.store.event_store import METADATA, RAW_EVENTS, delete_raw_events, event_store_engine

SOURCE = "rasa_events"
DIAGNOSTIC_FORM = "diagnostic_form"
QUESTION_IDS = ("actor_type", "size", "scale", "theme", "experience", "partners", "organisation", "evaluation",
                "resources", "support", "goal", "partners_wanted", "horizon")
FALLBACK_ACTION = "action_default_fallback"
ERASE_ACTION = "action_delete_my_data"
NOT_UNDERSTOOD_RESPONSES = {"utter_not_understood_answer", "utter_not_understood_again"}
GAP_RESPONSES = {"utter_no_results", "utter_unknown_subject", "utter_unknown_figure"}
CORRECTION_INTENTS = {"correct", "change_answer"}
ANSWER_PAYLOAD_INTENT = "answer"
MAX_TEXT = 1000
DEFAULT_BATCH = 5000
#: Every analytics table keyed by visitor (what « supprimer mes données » empties).
VISITOR_TABLES = (QuestionEvent, InboxMessage, KnowledgeGap, Feedback, ConversationStat)


def project_pending(max_events: int | None = None, *, engine: Engine | None = None,
                    event_engine: Engine | None = None) -> int:
    """Project the raw events after the cursor (at most ``max_events``); how many were projected.

    Safe to call from several processes at once: the cursor row is locked first, so a second caller waits
    and then finds nothing new.
    """
    engine = engine or get_engine()
    events_engine = event_engine or event_store_engine()
    if event_engine is not None:
        METADATA.create_all(events_engine)  # before Rasa's broker or the consumer made it: nothing to read
    limit = max_events if max_events is not None else DEFAULT_BATCH
    with session_scope(engine) as session:
        cursor = _locked_cursor(session)
        with events_engine.connect() as connection:
            rows = connection.execute(
                select(RAW_EVENTS.c.id, RAW_EVENTS.c.sender_id, RAW_EVENTS.c.data)
                .where(RAW_EVENTS.c.id > cursor.last_id).order_by(RAW_EVENTS.c.id).limit(limit)
            ).all()
        by_sender: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            event = _decode(row.data)
            if event is not None and row.sender_id:
                by_sender[row.sender_id].append(event)
        for sender, events in by_sender.items():
            Conversation(session, sender).apply(events)
        if rows:
            cursor.last_id = rows[-1].id
        last_id = cursor.last_id
    with events_engine.begin() as connection:
        delete_raw_events(connection, RAW_EVENTS.c.id <= last_id)
    return len(rows)


def _locked_cursor(session: Session) -> ProjectionCursor:
    """The cursor row, written to first so that the database serialises concurrent projections."""
    for _ in range(2):
        # A write first: SQLite takes its write lock here, PostgreSQL locks the row until the commit.
        session.execute(update(ProjectionCursor).where(ProjectionCursor.source == SOURCE)
                        .values(last_id=ProjectionCursor.last_id))
        cursor = session.get(ProjectionCursor, SOURCE, populate_existing=True)
        if cursor is not None:
            return cursor
        try:
            with session.begin_nested():
                session.add(ProjectionCursor(source=SOURCE, last_id=0))
        except IntegrityError:
            continue  # another process created it at the same time: lock theirs
    cursor = session.get(ProjectionCursor, SOURCE)
    if cursor is None:
        raise RuntimeError("the projection cursor could neither be read nor created")
    return cursor


def _decode(data: str | None) -> dict[str, Any] | None:
    import json

    try:
        event = json.loads(data or "{}")
    except ValueError:
        return None
    return event if isinstance(event, dict) and event.get("event") else None


def _time(event: dict[str, Any]) -> datetime:
    stamp = event.get("timestamp")
    return datetime.fromtimestamp(float(stamp), timezone.utc) if isinstance(stamp, (int, float)) \
        else datetime.now(timezone.utc)


def erase_visitor(session: Session, visitor: str) -> dict[str, int]:
    """Delete every analytics row of one visitor; how many of each table."""
    return {table.__tablename__: session.execute(delete(table).where(table.visitor == visitor)).rowcount or 0
            for table in VISITOR_TABLES}


class Conversation:
    """One conversation's events applied to its :class:`ConversationStat` and the rows they produce."""

    def __init__(self, session: Session, sender: str) -> None:
        self.session = session
        self.visitor = visitor_key(sender)
        self.stat = session.get(ConversationStat, self.visitor)

    def apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._apply(event)

    def _stat(self, at: datetime, create: bool) -> ConversationStat | None:
        """The conversation's row; a conversation starts with its first user message (not with Rasa's session
        start, nor with the restart after an erasure)."""
        if self.stat is None:
            if not create:
                return None
            self.stat = ConversationStat(visitor=self.visitor, started_at=at, last_event_at=at, user_messages=0)
            self.session.add(self.stat)
        if self.stat.last_event_at is None or _aware(self.stat.last_event_at) < at:
            self.stat.last_event_at = at
        return self.stat

    def _apply(self, event: dict[str, Any]) -> None:
        kind, at = event.get("event"), _time(event)
        if kind in ("user_featurization", "action_execution_rejected", "followup"):
            return
        if kind == "action" and event.get("name") == ERASE_ACTION:
            self._erase()
            return
        stat = self._stat(at, create=kind == "user")
        if stat is None:
            return
        if kind == "user":
            self._close_turn(stat)
            stat.user_messages = (stat.user_messages or 0) + 1
            stat.turn = _open_turn(event, stat.asking, at)
        elif kind == "slot":
            self._slot(stat, str(event.get("name")), event.get("value"), at)
        elif kind == "active_loop":
            stat.active_loop = event.get("name")
            if stat.active_loop == DIAGNOSTIC_FORM and stat.diagnostic_started_at is None:
                stat.diagnostic_started_at = at
            if stat.active_loop != DIAGNOSTIC_FORM:
                stat.asking = None
        elif kind == "action":
            name = event.get("name")
            if name == "action_listen":
                self._close_turn(stat)
            elif name == FALLBACK_ACTION:
                _flag(stat, "fallback")
        elif kind == "bot":
            response = (event.get("metadata") or {}).get("utter_action")
            if response in NOT_UNDERSTOOD_RESPONSES:
                _flag(stat, "not_understood")
            elif response in GAP_RESPONSES:
                _flag(stat, "gap")
        elif kind in ("restart", "session_started"):
            # Rasa resets the tracker on both: no form runs until one is activated again.
            stat.active_loop = None
            stat.asking = None

    def _slot(self, stat: ConversationStat, name: str, value: Any, at: datetime) -> None:
        if name == "requested_slot":
            if stat.active_loop == DIAGNOSTIC_FORM and value in QUESTION_IDS:
                if value != stat.last_question:
                    self._question_event(value, ASKED, at)
                stat.asking = stat.last_question = value
            elif value is None:
                stat.asking = None
        elif name in QUESTION_IDS:
            _flag(stat, f"{'set' if value is not None else 'cleared'}:{name}")
        elif name == "result_shown" and value is True and stat.diagnostic_finished_at is None:
            stat.diagnostic_finished_at = at

    def _close_turn(self, stat: ConversationStat) -> None:
        """Judge the turn that just ended (see the module docstring)."""
        turn = stat.turn
        if not turn:
            return
        stat.turn = None
        at = datetime.fromisoformat(turn["at"])
        flags, asked = set(turn.get("flags") or []), turn.get("question")
        changed = {flag.split(":", 1)[1] for flag in flags if flag.startswith(("set:", "cleared:"))}
        corrected: set[str] = set()
        if turn.get("intent") in CORRECTION_INTENTS:
            corrected = changed
        elif turn.get("intent") == ANSWER_PAYLOAD_INTENT and turn.get("payload_question") not in (None, asked):
            corrected = changed & {turn["payload_question"]}
        for question in sorted(corrected):
            self._question_event(question, CORRECTED, at)
        not_understood = "fallback" in flags or "not_understood" in flags
        if asked and f"set:{asked}" in flags and asked not in corrected:
            self._question_event(asked, CLICKED if turn.get("clicked") else TYPED, at)
        elif asked and not_understood:
            self._question_event(asked, NOT_UNDERSTOOD, at)
        text = turn.get("text") or ""
        if not_understood and text and not turn.get("clicked"):
            reason = INBOX_FALLBACK if "fallback" in flags else INBOX_NOT_AN_ANSWER
            self.session.add(InboxMessage(visitor=self.visitor, text=text, group_key=group_key(text), question_id=asked,
                                          reason=reason, received_at=at))
        if "gap" in flags and text and not turn.get("clicked"):
            self.session.add(KnowledgeGap(visitor=self.visitor, text=text, group_key=group_key(text), asked_at=at))

    def _question_event(self, question: str, kind: str, at: datetime) -> None:
        self.session.add(QuestionEvent(visitor=self.visitor, question_id=question, kind=kind, at=at))

    def _erase(self) -> None:
        """« supprimer mes données »: what was projected of this conversation goes, and what was pending."""
        self.session.flush()
        erase_visitor(self.session, self.visitor)
        self.stat = None


def _open_turn(event: dict[str, Any], asking: str | None, at: datetime) -> dict[str, Any]:
    text = str(event.get("text") or "")
    parse = event.get("parse_data") or {}
    payload_question = next((entity.get("value") for entity in parse.get("entities") or []
                             if entity.get("entity") == "question_id"), None)
    return {"text": mask(text.strip())[:MAX_TEXT], "question": asking, "clicked": text.startswith("/"),
            "intent": (parse.get("intent") or {}).get("name"), "payload_question": payload_question,
            "at": at.isoformat(), "flags": []}


def _flag(stat: ConversationStat, flag: str) -> None:
    if stat.turn:
        # A new dict: SQLAlchemy sees a JSON column change only when the value is replaced.
        stat.turn = {**stat.turn, "flags": [*stat.turn.get("flags", []), flag]}


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def project_periodically(seconds: float) -> None:
    """Project the new events every ``seconds`` until cancelled (the web app's background task)."""
    import asyncio
    import logging

    logger = logging.getLogger(__name__)
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(project_pending)
        except Exception:
            logger.exception("analytics projection failed; trying again in %.0f s", seconds)
