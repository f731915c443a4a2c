"""Whole diagnostics against the running servers over REST: by buttons, by free text, across a restart."""

from __future__ import annotations

import pytest

from bot.diagnostic.questionnaire import load_questionnaire
from bot.diagnostic.scoring import compute_result
from bot.knowledge.model import load_catalogue
from bot.runtime.stack import Stack
from tests.client import Client, asked_position, buttons, payload, texts

BUTTON_ANSWERS = {
    "actor_type": "collectivite", "size": "pme", "scale": "departement", "theme": "sante",
    "experience": "habitude", "partners": "plusieurs", "organisation": "gouvernance", "evaluation": "bilan",
    "resources": "referent", "support": "accompagne",
    "goal": "territoire", "partners_wanted": "publics", "horizon": "long",
}  # fmt: skip

# One plain message per question, as a user would type it, and what it must be read as.
FREE_TEXT_ANSWERS = [
    ("actor_type", "on est une asso", "association"),
    ("size", "que des benevoles", "benevole"),
    ("scale", "dans notre quartier", "local"),
    ("theme", "l'isolement des personnes seules", "lien_social"),
    ("experience", "on n'a jamais fait de partenariat", "aucun"),
    ("partners", "avec la mairie et deux entreprises", ["publics", "entreprises"]),
    ("organisation", "c'est informel, on se connait bien", "informel"),
    ("evaluation", "non pas encore", "non"),
    ("resources", "un peu de temps de temps en temps", "temps"),
    ("support", "on sait vers qui se tourner", "connait"),
    ("goal", "inventer une solution nouvelle qu'on ne pourrait pas faire seuls", "innovation"),
    ("partners_wanted", "des entreprises", "entreprises"),
    ("horizon", "un projet sur deux ou trois ans", "moyen"),
]


def start(client: Client, sender: str) -> list[dict]:
    client.say(sender, "bonjour")
    return client.say(sender, "/start_diagnostic")


def test_greeting_offers_the_main_menu(client: Client) -> None:
    reply = client.say(client.new_sender(), "bonjour")
    titles = [button["title"] for button in buttons(reply)]
    assert "Faire le diagnostic" in titles
    assert "Découvrir les 4 portes d'entrée" in titles


def test_whole_diagnostic_by_buttons(client: Client) -> None:
    survey = load_questionnaire()
    sender = client.new_sender("buttons")
    reply = start(client, sender)
    for position, question in enumerate(survey.questions, start=1):
        assert asked_position(reply) == f"{position}/13", texts(reply)
        offered = [button["payload"] for button in buttons(reply)]
        assert payload(question.id, BUTTON_ANSWERS[question.id]) in offered
        assert payload(question.id, "nsp") in offered
        state = client.diagnostic(sender).json()
        assert state["current_question"] == question.id
        reply = client.say(sender, payload(question.id, BUTTON_ANSWERS[question.id]))
    assert "Avant votre résultat" in texts(reply) and "porte d'entrée" not in texts(reply)  # the recap first
    assert client.diagnostic(sender).json()["status"] == "in_progress"
    reply = client.say(sender, "/confirm_result")
    expected = compute_result(survey, BUTTON_ANSWERS)
    door_label = survey.door(expected.door).label
    assert door_label in texts(reply)
    assert survey.level(expected.level).label in texts(reply)
    state = client.diagnostic(sender).json()
    assert state["status"] == "completed"
    assert state["answers"] == BUTTON_ANSWERS
    assert (state["door"], state["runner_up"], state["level"]) == (expected.door, expected.runner_up, expected.level)
    assert state["scores"] == expected.scores
    assert state["dimensions"] == expected.dimensions
    assert state["maturity"] == expected.maturity
    assert state["reasons"] == expected.reasons
    catalogue = load_catalogue(survey)
    assert len(state["tools"]) == 3 and len(state["examples"]) == 2
    for key, kind in (("tools", "tool"), ("examples", "example")):
        for item in state[key]:
            entry = catalogue.get(kind, item["id"])
            assert entry is not None and entry.tagged("doors", expected.door) and item["reason"] and item["source"]
            assert entry.title in texts(reply)
    more = texts(client.say(sender, "/more_examples"))
    assert not any(item["name"] in more for item in state["examples"])


def test_whole_diagnostic_by_free_text(client: Client) -> None:
    sender = client.new_sender("text")
    reply = start(client, sender)
    for position, (question_id, message, expected) in enumerate(FREE_TEXT_ANSWERS, start=1):
        assert asked_position(reply) == f"{position}/13", (question_id, texts(reply))
        reply = client.say(sender, message)
        assert "C'est noté" in texts(reply), (message, texts(reply))
        assert client.tracker(sender)["slots"][question_id] == expected, message
    reply = client.say(sender, "c'est bon, voir mon résultat")
    assert "porte d'entrée recommandée" in texts(reply)
    assert client.diagnostic(sender).json()["status"] == "completed"


def test_several_answers_in_one_message_are_confirmed_and_not_asked_again(client: Client) -> None:
    sender = client.new_sender("multi")
    start(client, sender)
    reply = client.say(sender, "nous sommes une association de quartier, que des bénévoles")
    slots = client.tracker(sender)["slots"]
    assert (slots["actor_type"], slots["size"], slots["scale"]) == ("association", "benevole", "local")
    assert texts(reply).count("C'est noté") == 1
    assert asked_position(reply) == "4/13"


def test_unknown_conversation_is_404(client: Client) -> None:
    assert client.diagnostic("nobody-" + client.new_sender()).status_code == 404


def test_diagnostic_continues_after_rasa_server_restart(client: Client, stack: Stack) -> None:
    survey = load_questionnaire()
    sender = client.new_sender("restart")
    start(client, sender)
    for question in survey.questions[:5]:
        reply = client.say(sender, payload(question.id, BUTTON_ANSWERS[question.id]))
    assert asked_position(reply) == "6/13"
    stack.stop_process("rasa")
    stack.start_rasa()
    reply = client.say(sender, payload("partners", "plusieurs"))
    assert asked_position(reply) == "7/13", texts(reply)
    slots = client.tracker(sender)["slots"]
    assert all(slots[question.id] == BUTTON_ANSWERS[question.id] for question in survey.questions[:6])


@pytest.mark.parametrize("command", ["pourquoi cette question ?", "/why_question"])
def test_why_explains_then_asks_the_same_question(client: Client, command: str) -> None:
    sender = client.new_sender("why")
    start(client, sender)
    client.say(sender, payload("actor_type", "association"))
    reply = client.say(sender, command)
    assert "Pourquoi cette question" in texts(reply)
    assert asked_position(reply) == "2/13"
