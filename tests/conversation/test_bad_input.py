"""Bad input inside and outside the questionnaire: a short polite answer, nothing stored, still usable."""

from __future__ import annotations

import pytest

from tests.client import Client, asked_position, payload, texts

BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \t  ",
    "very_long": "alliance " * 1250,  # about 10 000 characters
    "emoji_only": "🤝🙂🎉",
    "html_script": "<script>alert('x')</script><b>gras</b>",
    "sql_like": "'; DROP TABLE diagnostics; --",
    "other_language": "What is the weather like in London today?",
    "control_characters": "\x00\x07\x1b[31m\x08 bonjour\x7f",
    "malformed_payload": '/answer{"question_id": "size"',
}
FORGED_PAYLOADS = {
    "unknown_question": payload("favourite_colour", "bleu"),
    "unknown_option": payload("size", "gigantesque"),
    "option_of_another_question": payload("size", "collectivite"),
    "list_on_single_choice": '/answer{"question_id": "size", "choice": ["tpe", "pme"]}',
}
MAX_REPLY_CHARACTERS = 1500


def at_question_two(client: Client, prefix: str) -> str:
    sender = client.new_sender(prefix)
    client.say(sender, "/start_diagnostic")
    reply = client.say(sender, payload("actor_type", "association"))
    assert asked_position(reply) == "2/13"
    return sender


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_outside_the_questionnaire_gets_a_short_answer(client: Client, name: str) -> None:
    sender = client.new_sender(f"bad-{name}")
    reply = client.say(sender, BAD_INPUTS[name])
    assert reply, "no answer at all"
    assert len(texts(reply)) <= MAX_REPLY_CHARACTERS
    assert "<script>" not in texts(reply)
    follow_up = client.say(sender, "/start_diagnostic")
    assert asked_position(follow_up) == "1/13"


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_inside_the_questionnaire_keeps_the_question(client: Client, name: str) -> None:
    sender = at_question_two(client, f"badq-{name}")
    reply = client.say(sender, BAD_INPUTS[name])
    assert asked_position(reply) == "2/13", texts(reply)
    assert len(texts(reply)) <= MAX_REPLY_CHARACTERS
    assert client.tracker(sender)["slots"]["size"] is None
    reply = client.say(sender, payload("size", "tpe"))
    assert asked_position(reply) == "3/13"


@pytest.mark.parametrize("name", sorted(FORGED_PAYLOADS))
def test_forged_payload_stores_nothing(client: Client, name: str) -> None:
    sender = at_question_two(client, f"forged-{name}")
    before = client.diagnostic(sender).json()["answers"]
    reply = client.say(sender, FORGED_PAYLOADS[name])
    assert "je n'ai rien enregistré" in texts(reply)
    assert asked_position(reply) == "2/13"
    slots = client.tracker(sender)["slots"]
    assert slots["size"] is None
    assert "favourite_colour" not in slots
    assert client.diagnostic(sender).json()["answers"] == before == {"actor_type": "association"}
    assert asked_position(client.say(sender, payload("size", "pme"))) == "3/13"
