"""The launcher's fixes (bot/runtime/rasa_launcher.py): kept-alive endpoint sessions (fix 3), against a real local
HTTP server, the pooled SQLite engines of Rasa's stores (fix 7), and the kept ``applied_events`` (fix 5), against Rasa's own computation, and the
lean calls to the action server (fix 6)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.pool import NullPool, QueuePool

from bot.runtime import rasa_launcher


@pytest.fixture()
def launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher's fixes, undone after the test."""
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", MessageProcessor._parse_message_with_graph)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(SpacyNLP, "load_model", SpacyNLP.load_model)
    monkeypatch.setattr(DialogueStateTracker, "applied_events", DialogueStateTracker.applied_events)
    monkeypatch.setattr(RemoteAction, "_action_call_format", RemoteAction._action_call_format)
    monkeypatch.setattr(sqlalchemy, "create_engine", sqlalchemy.create_engine)
    rasa_launcher.install()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve(port: int, peers: list[Any]) -> web.AppRunner:
    """A webhook that answers with the client's address (its source port tells the connection)."""

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"events": [], "received": await request.json()})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def test_calls_to_an_endpoint_reuse_one_connection(launcher: None) -> None:
    async def scenario() -> None:
        port, peers = free_port(), []
        runner = await serve(port, peers)
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook", token="secret")
        try:
            replies = [await endpoint.request(json={"next_action": f"action_{n}"}) for n in range(5)]
            assert [reply["received"]["next_action"] for reply in replies] == [f"action_{n}" for n in range(5)]
            body = {"text": "« élus » / EPCI \u2028", "timestamp": 1764866112.1234567, "confidence": 0.1 + 0.2,
                    "nested": [{"none": None, "big": 2**53 + 1, "tiny": 5e-324, "flag": True}]}
            assert (await endpoint.request(json=body))["received"] == body  # the same once decoded
            assert len(peers) == 6 and len(set(peers)) == 1, peers
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_a_restarted_server_is_reached_again(launcher: None) -> None:
    """After the server went away (its connections closed), the next call opens a new connection."""

    async def scenario() -> None:
        port, peers = free_port(), []
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        runner = await serve(port, peers)
        await endpoint.request(json={"n": 1})
        await runner.cleanup()
        runner = await serve(port, peers)
        try:
            assert (await endpoint.request(json={"n": 2}))["received"] == {"n": 2}
            assert len(set(peers)) == 2
        finally:
            await runner.cleanup()

    asyncio.run(scenario())



def questionnaire_events() -> list[Event]:
    """A session with every kind of event ``applied_events`` treats apart: a form run many times, its
    unhappy path, reverted actions and messages, a restart and a new session."""
    form, events = "diagnostic_form", [SessionStarted(), ActionExecuted("action_listen")]
    events += [UserUttered("/start_diagnostic", {"name": "start_diagnostic"}), ActionExecuted(form), ActiveLoop(form)]
    for number in range(6):
        events += [SlotSet("requested_slot", f"q{number}"), ActionExecuted("action_listen"),
                   UserUttered(f"réponse {number}", {"name": "inform"}), ActionExecuted(form),
                   SlotSet(f"q{number}", "a")]
        if number == 2:  # an interruption answered by a rule, then back to the form
            events += [ActionExecuted("action_listen"), UserUttered("pourquoi ?", {"name": "why"}),
                       ActionExecuted("utter_why"), ActionExecuted(form)]
        if number == 3:
            events += [ActionExecuted("action_default_fallback"), ActionReverted(), UserUtteranceReverted()]
    events += [ActiveLoop(None), ActionExecuted("action_show_result"), Restarted(), ActionExecuted("action_listen"),
               UserUttered("bonjour", {"name": "greet"}), ActionExecuted("utter_greet")]
    return events


def test_kept_applied_events_are_rasas_own_after_every_event() -> None:
    shipped = DialogueStateTracker.applied_events
    kept_tracker = DialogueStateTracker("kept", [])
    shipped_tracker = DialogueStateTracker("shipped", [])
    for event in questionnaire_events():
        kept_tracker.update(event)
        shipped_tracker.update(event)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DialogueStateTracker, "applied_events", DialogueStateTracker.applied_events)
            rasa_launcher._install_applied_events_memo()
            first = kept_tracker.applied_events()
            first.clear()  # a caller changing its list changes nothing for the next one
            kept = kept_tracker.applied_events()
            assert kept_tracker.applied_events() == kept
        assert kept == shipped(shipped_tracker), event


def test_kept_applied_events_follow_a_replaced_or_full_history(launcher: None) -> None:
    tracker = DialogueStateTracker.from_events("replaced", [ActionExecuted("a"), ActionExecuted("b")])
    assert [event.action_name for event in tracker.applied_events()] == ["a", "b"]
    tracker.events = tracker._create_events([ActionExecuted("c")])  # a new deque, as long as none before
    assert [event.action_name for event in tracker.applied_events()] == ["c"]
    bounded = DialogueStateTracker("bounded", [], max_event_history=2)
    for name in ("a", "b", "c"):
        bounded.update(ActionExecuted(name))
        bounded.applied_events()
    # The full deque dropped « a » when « c » came: same length as before, a different last event.
    assert [event.action_name for event in bounded.applied_events()] == ["b", "c"]


def typed(text: str, intent: str) -> UserUttered:
    ranking = [{"name": intent, "confidence": 0.9}, {"name": "other", "confidence": 0.1}]
    return UserUttered(text, {"name": intent, "confidence": 0.9},
                       [{"entity": "actor_type", "value": "association", "start": 0, "end": 5}],
                       parse_data={"intent": {"name": intent, "confidence": 0.9}, "intent_ranking": ranking,
                                   "entities": [], "text": text})


def test_action_calls_leave_out_the_older_rankings_and_bot_messages_only(launcher: None) -> None:
    menu = {"buttons": [{"title": "Commencer", "payload": "/start"}]}
    tracker = DialogueStateTracker.from_events("lean", [
        ActionExecuted("action_listen"), typed("une asso", "inform"), ActionExecuted("utter_menu"),
        BotUttered("Que voulez-vous faire ?", menu, {"utter_action": "utter_menu"}),
        ActionExecuted("action_listen"), typed("40 salariés", "answer_size"),
        BotUttered("Noté.", None, {"utter_action": "utter_noted"}),
    ])
    call = RemoteAction("action_read", EndpointConfig("http://127.0.0.1:1/webhook"))._action_call_format(
        tracker, Domain.empty())
    events = call["tracker"]["events"]
    assert [event["event"] for event in events] == [event.type_name for event in tracker.events]
    bots = [event for event in events if event["event"] == "bot"]
    assert set(bots[0]) == {"event", "timestamp"}
    assert bots[1]["text"] == "Noté." and bots[1]["metadata"] == {"utter_action": "utter_noted"}
    # The tracker keeps every bot message whole.
    assert next(event.data for event in tracker.events if isinstance(event, BotUttered)) == menu
    users = [event for event in events if event["event"] == "user"]
    assert "intent_ranking" not in users[0]["parse_data"]
    assert users[0]["parse_data"]["intent"]["name"] == "inform" and users[0]["text"] == "une asso"
    assert len(users[1]["parse_data"]["intent_ranking"]) == 2
    assert len(call["tracker"]["latest_message"]["intent_ranking"]) == 2
    # The tracker keeps every ranking (the tracker store and the event broker save them).
    assert all(len(event.parse_data["intent_ranking"]) == 2 for event in tracker.events if isinstance(event, UserUttered))


def test_rasas_sqlite_stores_keep_their_connections(launcher: None, tmp_path: Path) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    assert isinstance(store.engine.pool, QueuePool) and isinstance(broker.engine.pool, QueuePool)
    with store.session_scope() as session:
        first = session.connection().connection.dbapi_connection
    with store.session_scope() as session:
        assert session.connection().connection.dbapi_connection is first  # the same SQLite connection, kept
    assert not isinstance(sqlalchemy.create_engine("sqlite:///:memory:").pool, (NullPool, QueuePool))
