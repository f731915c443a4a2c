"""Privacy and the chat relay's limits, over HTTP against the running stack.

« supprimer mes données » erases the diagnostic and the conversation; the
relay refuses messages that are too long or too fast with a short answer.
"""

from __future__ import annotations

import requests
from sqlalchemy import text

from bot.runtime.stack import Stack
from bot.store.db import build_engine
from tests.client import TIMEOUT, Client, asked_position, buttons, payload, texts


def relay(client: Client, sender: str, message: str) -> requests.Response:
    return requests.post(f"{client.web_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                         timeout=TIMEOUT)


def stored_events(stack: Stack, sender: str) -> int:
    engine = build_engine(stack.env["TRACKER_STORE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
    finally:
        engine.dispose()


def test_the_greeting_says_what_is_stored(client: Client) -> None:
    greeting = texts(relay(client, client.new_sender(), "bonjour").json())
    assert "aucune donnée personnelle" in greeting and "« supprimer mes données »" in greeting


def test_delete_my_data_erases_the_diagnostic_and_the_conversation(client: Client, stack: Stack) -> None:
    sender = client.new_sender("erase")
    relay(client, sender, "/start_diagnostic")
    relay(client, sender, payload("actor_type", "association"))
    assert client.diagnostic(sender).status_code == 200
    assert stored_events(stack, sender) > 0

    asked = relay(client, sender, "supprimer mes données").json()
    assert "Voulez-vous vraiment effacer" in texts(asked)
    assert asked_position(asked) == "2/13", "the question comes back until the user confirms"
    assert "/confirm_delete_my_data" in [button["payload"] for button in buttons(asked)]
    done = relay(client, sender, "/confirm_delete_my_data").json()
    assert "sont effacés" in texts(done)
    assert any((message.get("custom") or {}).get("erased") is True for message in done)

    assert client.diagnostic(sender).status_code == 404
    assert requests.get(f"{client.web_url}/diagnostics/{sender}", timeout=TIMEOUT).status_code == 404
    assert stored_events(stack, sender) == 0, "the conversation is gone from Rasa's tracker store"
    again = relay(client, sender, "bonjour").json()
    assert "Par quoi voulez-vous commencer" in texts(again), "the same id starts afresh"


def test_saying_no_keeps_everything(client: Client) -> None:
    sender = client.new_sender("keep")
    relay(client, sender, "/start_diagnostic")
    relay(client, sender, payload("actor_type", "association"))
    relay(client, sender, "effacer mes données")
    relay(client, sender, "/deny")
    state = client.diagnostic(sender)
    assert state.status_code == 200 and state.json()["answers"] == {"actor_type": "association"}


def test_a_message_too_long_gets_a_short_answer_and_never_reaches_rasa(client: Client) -> None:
    sender = client.new_sender("long")
    relay(client, sender, "/start_diagnostic")
    response = relay(client, sender, "é" * 2001)
    assert response.status_code == 200
    assert "trop long (2001 caractères)" in texts(response.json())
    user_texts = [event.get("text") for event in client.tracker(sender)["events"] if event["event"] == "user"]
    assert "é" * 2001 not in user_texts
    assert asked_position(relay(client, sender, payload("actor_type", "association")).json()) == "2/13"


def test_a_conversation_sending_too_fast_is_asked_to_wait(client: Client) -> None:
    sender = client.new_sender("fast")
    statuses = [relay(client, sender, "/greet").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    refused = relay(client, sender, "/greet")
    assert refused.status_code == 429 and "patientez" in texts(refused.json())
    assert int(refused.headers["retry-after"]) >= 1
    other = relay(client, client.new_sender("calm"), "/greet")
    assert other.status_code == 200, "another conversation is not slowed down"


def test_malformed_requests_get_a_400(client: Client) -> None:
    url = f"{client.web_url}/webhooks/rest/webhook"
    for body in ({"message": "bonjour"}, {"sender": "x" * 300, "message": "bonjour"}, {"sender": "a", "message": 3}):
        assert requests.post(url, json=body, timeout=TIMEOUT).status_code == 400
    assert requests.post(url, data=b"not json", timeout=TIMEOUT).status_code == 400
