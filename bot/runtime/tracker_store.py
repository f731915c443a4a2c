"""Rasa's SQL tracker store, reading on each message only the events it has not seen yet.

Loaded by Rasa itself (``tracker_store: type: bot.runtime.tracker_store.IncrementalSQLTrackerStore``
in the generated endpoints.yml), so unlike the rest of ``bot`` it imports Rasa.

Why: Rasa's ``SQLTrackerStore`` rebuilds the tracker of a conversation from every
event of its session on each message (a query with a subquery, then a JSON decode,
a class lookup and a replay per event), and counts the stored events before each
save. Under the production benchmark that was 33 % of a Rasa server's CPU (py-spy),
growing with the length of the conversation.

What this store does instead: it keeps, per conversation, the tracker it last saved
and the id and timestamp of the last row it wrote. The next message reads only the
rows after that id (the other servers' turns, when the balancer alternates) and
replays them on the kept tracker, which is what Rasa's rebuild does event by event.
The save writes the events after those already stored, without counting.

Rules that keep it exactly Rasa's store:

- A kept tracker is handed out once: whoever retrieves it owns it until it is saved.
  A turn that fails before its save leaves nothing kept, so the next message
  rebuilds from the database.
- The last known row must still be there, with the same timestamp: a conversation
  erased (« supprimer mes données ») or purged is rebuilt from what is left.
- A new session (``session_started`` among the new rows, or in a save) means a
  rebuild: Rasa's retrieve starts at the last session start.
- Anything else (an unknown tracker handed to ``save``, a changed domain) goes
  through Rasa's own code.

The cache holds at most ``cache_size`` conversations (``TRACKER_CACHE_SIZE``, 500 by
default), least recently used first out.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

DEFAULT_CACHE_SIZE = 500


@dataclass
class KnownTracker:
    """A tracker and where the database stood when it was last read or written."""

    tracker: DialogueStateTracker
    domain: Domain
    last_id: int
    last_timestamp: float | None
    stored: int  # how many of tracker.events are in the database


class IncrementalSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with a per-server cache read incrementally (see the module docstring)."""

    def __init__(self, *args: Any, cache_size: int | str = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = int(cache_size)
        if self.cache_size < 0:
            raise ValueError(f"cache_size must be 0 or more, not {cache_size}")
        self._kept: OrderedDict[str, KnownTracker] = OrderedDict()
        self._handed_out: dict[str, KnownTracker] = {}
        self.rebuilds = 0  # full reads, for the tests and the benchmark
        self.increments = 0

    # --- Reading -------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        kept = self._kept.pop(sender_id, None)
        with self.session_scope() as session:
            known = self._catch_up(session, kept) if kept is not None else None
            if known is None:
                known = self._rebuild(session, sender_id)
        if known is None:
            return None
        self._handed_out[sender_id] = known
        return known.tracker

    def _catch_up(self, session: Any, kept: KnownTracker) -> KnownTracker | None:
        """The kept tracker with the rows written since; None when only a rebuild is right."""
        if kept.domain is not self.domain:
            return None
        table = self.SQLEvent.__table__
        rows = session.execute(
            sa.select(table.c.id, table.c.type_name, table.c.timestamp, table.c.data)
            .where(table.c.sender_id == kept.tracker.sender_id, table.c.id >= kept.last_id)
            .order_by(table.c.id)
        ).all()
        if not rows or rows[0].id != kept.last_id or not _same_timestamp(rows[0].timestamp, kept.last_timestamp):
            return None  # erased or purged since
        new_rows = rows[1:]
        if any(row.type_name == SessionStarted.type_name for row in new_rows):
            return None
        for event in deserialise_events([json.loads(row.data) for row in new_rows]):
            kept.tracker.update(event)
        if new_rows:
            kept.last_id, kept.last_timestamp = new_rows[-1].id, new_rows[-1].timestamp
        kept.stored = len(kept.tracker.events)
        self.increments += 1
        return kept

    def _rebuild(self, session: Any, sender_id: str) -> KnownTracker | None:
        """Rasa's own read: every event since the session started."""
        rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not (self.domain and rows):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        self.rebuilds += 1
        return KnownTracker(tracker, self.domain, rows[-1].id, rows[-1].timestamp, len(tracker.events))

    # --- Writing -------------------------------------------------------------------------

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """The turn's new events to the event broker (analytics), known without reading the store again.

        Rasa's own ``stream_events`` retrieves the conversation once more to compute them, which here is a full
        rebuild at every turn (27 to 55 ms of a turn's p50 in bench/broker.py).
        """
        if self.event_broker is None:
            return
        known = self._handed_out.get(tracker.sender_id)
        if known is None or known.tracker is not tracker:
            await super().stream_events(tracker)
            return
        new_events = list(itertools.islice(tracker.events, known.stored, None))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        known = self._handed_out.pop(tracker.sender_id, None)
        if known is not None and known.tracker is not tracker:
            known = None
        with self.session_scope() as session:
            if known is not None:
                events = list(itertools.islice(tracker.events, known.stored, None))
            else:
                events = list(self._additional_events(session, tracker))
            last = self._insert(session, tracker.sender_id, events)
            session.commit()
        if last is None:
            last = (known.last_id, known.last_timestamp) if known is not None else None
        if last is None or any(isinstance(event, SessionStarted) for event in events):
            return
        self._keep(KnownTracker(tracker, self.domain, last[0], last[1], len(tracker.events)))

    def _insert(self, session: Any, sender_id: str, events: list[Event]) -> tuple[int, float | None] | None:
        """The rows Rasa's own save writes for ``events``; the id and timestamp of the last one.

        One multi-row insert, then one read of the conversation's last row, instead of the ORM's one INSERT per
        event (it needs every new id). That last row is this turn's: the lock store lets one turn at a time
        write a conversation.
        """
        if not events:
            return None
        table = self.SQLEvent.__table__
        session.execute(table.insert(), [self._row(sender_id, event) for event in events])
        last = session.execute(
            sa.select(table.c.id, table.c.timestamp).where(table.c.sender_id == sender_id)
            .order_by(table.c.id.desc()).limit(1)
        ).one()
        return last.id, last.timestamp

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The row Rasa's own save writes for an event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _keep(self, known: KnownTracker) -> None:
        if self.cache_size == 0:
            return
        sender_id = known.tracker.sender_id
        self._kept[sender_id] = known
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)


def _same_timestamp(stored: float | None, known: float | None) -> bool:
    if stored is None or known is None:
        return stored is known
    return math.isclose(stored, known, rel_tol=0.0, abs_tol=1e-6)
