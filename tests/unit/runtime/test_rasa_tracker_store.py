"""The incremental tracker store (bot/runtime/tracker_store.py) gives the trackers Rasa's SQL store gives.

Two incremental stores on one database play two Rasa servers behind a round-robin
balancer; Rasa's own ``SQLTrackerStore`` on the same database is the reference.
Every check compares whole tracker states (events, slots, active form), on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.paths import REPO_ROOT
from bot.runtime.rasa_config import tracker_store_config
from bot.runtime.tracker_store import IncrementalSQLTrackerStore
from tests.databases import throwaway_engine

SENDER = "conversation-1"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "domain.yml"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with throwaway_engine(request.param, tmp_path) as engine:
        yield engine


def store_options(engine: Engine) -> dict[str, Any]:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": url.database}
    return {"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database,
            "username": url.username, "login_db": "postgres"}


class Servers:
    """Two incremental stores (two Rasa servers) and Rasa's store, on one database."""

    def __init__(self, engine: Engine, domain: Domain, cache_size: int = 500) -> None:
        options = store_options(engine)
        self.engine = engine
        self.servers = [IncrementalSQLTrackerStore(domain=domain, cache_size=cache_size, **options) for _ in range(2)]
        self.reference = SQLTrackerStore(domain=domain, **options)

    def close(self) -> None:
        for store in (*self.servers, self.reference):
            store.engine.dispose()

    def state(self, store: TrackerStore, sender: str = SENDER) -> dict[str, Any] | None:
        """The tracker a new message would get, given back unchanged (as a turn with no new event)."""
        tracker = run(store.retrieve(sender))
        if tracker is None:
            return None
        state = tracker_state(tracker)
        run(store.save(tracker))
        return state

    def assert_all_agree(self, sender: str = SENDER) -> None:
        expected = self.state(self.reference, sender)
        for server in self.servers:
            assert self.state(server, sender) == expected


@pytest.fixture()
def servers(engine: Engine, domain: Domain) -> Iterator[Servers]:
    running = Servers(engine, domain)
    yield running
    running.close()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def tracker_state(tracker: DialogueStateTracker) -> dict[str, Any]:
    latest = tracker.latest_message.as_dict() if tracker.latest_message else {}
    # Before any message, Rasa makes up an empty one stamped with the time of the read.
    latest.pop("timestamp", None)
    return {
        "state": tracker.current_state(EventVerbosity.ALL),
        "slots": {name: slot.value for name, slot in tracker.slots.items()},
        "active_loop": tracker.active_loop_name,
        "latest_message": latest,
    }


def new_conversation(store: IncrementalSQLTrackerStore, sender: str = SENDER) -> None:
    """What Rasa does for a first message: a tracker, a session started, saved."""
    tracker = run(store.get_or_create_tracker(sender, append_action_listen=False))
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(),
                                ActionExecuted("action_listen")], None)
    run(store.save(tracker))


def turn(store: IncrementalSQLTrackerStore, number: int, sender: str = SENDER) -> DialogueStateTracker:
    """One message and the bot's answer, as the processor adds them, saved."""
    tracker = run(store.retrieve(sender))
    assert tracker is not None
    tracker.update(UserUttered(f"réponse {number}", {"name": "answer", "confidence": 1.0},
                               [{"entity": "choice", "value": f"option-{number}"}]))
    if number == 0:
        tracker.update(ActiveLoop("diagnostic_form"))
    tracker.update(ActionExecuted("diagnostic_form"))
    tracker.update(SlotSet("requested_slot", f"question-{number}"))
    tracker.update(BotUttered(f"Question {number + 1}", {"buttons": [{"title": "Oui", "payload": "/affirm"}]}))
    tracker.update(ActionExecuted("action_listen"))
    run(store.save(tracker))
    return tracker


def test_alternating_servers_agree_with_rasa_after_every_turn(servers: Servers) -> None:
    new_conversation(servers.servers[0])
    for number in range(14):
        turn(servers.servers[number % 2], number)
        servers.assert_all_agree()
    assert all(server.increments > 10 for server in servers.servers)
    assert all(server.rebuilds <= 2 for server in servers.servers)


def test_an_erased_conversation_is_not_served_from_the_cache(servers: Servers) -> None:
    new_conversation(servers.servers[0])
    for number in range(3):
        turn(servers.servers[number % 2], number)
    with servers.engine.begin() as connection:
        connection.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": SENDER})
    assert servers.state(servers.reference) is None
    assert [servers.state(server) for server in servers.servers] == [None, None]


def test_a_conversation_cut_to_its_start_is_rebuilt(servers: Servers) -> None:
    """Rows removed behind the cache (a purge) are noticed from the last row."""
    new_conversation(servers.servers[0])
    for number in range(4):
        turn(servers.servers[number % 2], number)
    with servers.engine.begin() as connection:
        last = connection.execute(text("SELECT max(id) FROM events")).scalar_one()
        connection.execute(text("DELETE FROM events WHERE id > :last - 5"), {"last": last})
    servers.assert_all_agree()


def test_a_new_session_starts_from_its_own_events(servers: Servers) -> None:
    new_conversation(servers.servers[0])
    turn(servers.servers[0], 0)
    turn(servers.servers[1], 1)
    tracker = run(servers.servers[0].retrieve(SENDER))
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(),
                                ActionExecuted("action_listen")], None)
    run(servers.servers[0].save(tracker))
    servers.assert_all_agree()
    turn(servers.servers[1], 2)
    servers.assert_all_agree()
    # Rasa reads from the session start on: session_started, action_listen, then the 5 events of the turn.
    assert len(run(servers.reference.retrieve(SENDER)).events) == 2 + 5


def test_a_turn_that_fails_before_its_save_leaves_nothing_behind(servers: Servers) -> None:
    new_conversation(servers.servers[0])
    turn(servers.servers[0], 0)
    broken = run(servers.servers[0].retrieve(SENDER))
    broken.update(UserUttered("jamais enregistré", {"name": "answer", "confidence": 1.0}))
    # No save: the processor raised. The next message must not see this event.
    servers.assert_all_agree()
    assert "jamais enregistré" not in str(servers.state(servers.servers[0]))


def test_a_tracker_the_store_did_not_hand_out_is_saved_by_counting(servers: Servers) -> None:
    new_conversation(servers.servers[0])
    turn(servers.servers[0], 0)
    copy = run(servers.reference.retrieve(SENDER))
    copy.update(BotUttered("écrit par un autre chemin"))
    run(servers.servers[1].save(copy))
    servers.assert_all_agree()
    assert sum(isinstance(event, BotUttered) for event in run(servers.reference.retrieve(SENDER)).events) == 2


def test_the_cache_holds_at_most_cache_size_conversations(engine: Engine, domain: Domain) -> None:
    running = Servers(engine, domain, cache_size=2)
    try:
        store = running.servers[0]
        for sender in ("a", "b", "c"):
            new_conversation(store, sender)
            turn(store, 0, sender)
        assert list(store._kept) == ["b", "c"]
        for sender in ("a", "b", "c"):
            running.assert_all_agree(sender)
    finally:
        running.close()


def test_the_generated_endpoints_load_this_store(tmp_path: Path, domain: Domain) -> None:
    """Rasa quietly falls back to an in-memory store when a custom class fails to load: not here."""
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(tracker_store_config(f"sqlite:///{tmp_path / 'tracker.db'}", cache_size=7), encoding="utf-8")
    store = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), domain)
    assert isinstance(store, IncrementalSQLTrackerStore)
    assert store.cache_size == 7


class Collecting:
    """An event broker that keeps what it is given."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def test_the_event_broker_gets_each_new_event_once_without_a_second_read(servers: Servers) -> None:
    store, other = servers.servers
    broker = Collecting()
    store.event_broker = other.event_broker = broker  # type: ignore[assignment]
    new_conversation(store)
    turn(store, 0)
    rebuilds = store.rebuilds
    turn(store, 1)
    turn(other, 2)  # the other server, which reads the conversation once
    assert store.rebuilds == rebuilds
    users = [event["text"] for event in broker.published if event["event"] == "user"]
    assert users == ["réponse 0", "réponse 1", "réponse 2"]
    assert {event["sender_id"] for event in broker.published} == {SENDER}
    stored = run(servers.reference.retrieve_full_tracker(SENDER))
    assert len(broker.published) == len(stored.events)  # every stored event, once
