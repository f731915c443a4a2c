"""Interruptions inside the questionnaire: each is answered, then the same question comes back."""

from __future__ import annotations

import re

from bot.diagnostic.questionnaire import load_questionnaire
from bot.knowledge.model import load_catalogue
from tests.client import Client, asked_position, buttons, payload, texts


def at_question_three(client: Client, prefix: str) -> str:
    sender = client.new_sender(prefix)
    client.say(sender, "/start_diagnostic")
    client.say(sender, payload("actor_type", "entreprise"))
    reply = client.say(sender, payload("size", "grande"))
    assert asked_position(reply) == "3/13"
    return sender


def test_doors_question_in_the_middle_resumes_the_question(client: Client) -> None:
    sender = at_question_three(client, "doors")
    reply = client.say(sender, "c'est quoi les 4 portes d'entree ?")
    assert "La co-construction territoriale" in texts(reply)
    assert asked_position(reply) == "3/13"


def test_one_door_in_the_middle(client: Client) -> None:
    sender = at_question_three(client, "door")
    reply = client.say(sender, '/ask_door{"door": "odd"}')
    assert "La contribution aux ODD" in texts(reply)
    assert asked_position(reply) == "3/13"


def test_tools_of_one_door_are_listed_from_that_door(client: Client) -> None:
    sender = at_question_three(client, "door-tools")
    reply = client.say(sender, "quels outils pour l'engagement des salariés ?")
    listed = re.findall(r"^- \*\*(.+?)\*\*", texts(reply), flags=re.MULTILINE)
    assert "Des outils" in texts(reply) and listed, texts(reply)
    tools = {entry.title: entry for entry in load_catalogue(load_questionnaire()).of("tool")}
    assert all(tools[title].tagged("doors", "salaries") for title in listed), listed
    assert asked_position(reply) == "3/13"


def test_levels_in_the_middle(client: Client) -> None:
    sender = at_question_three(client, "levels")
    reply = client.say(sender, "quels sont les niveaux de maturité ?")
    assert "Découverte" in texts(reply) and "Moteur" in texts(reply)
    assert asked_position(reply) == "3/13"


def test_out_of_scope_gets_one_line_and_the_question(client: Client) -> None:
    sender = at_question_three(client, "oos")
    reply = client.say(sender, "quel temps fera-t-il demain à Lyon ?")
    assert asked_position(reply) == "3/13"
    assert len([message for message in reply if message.get("text")]) == 2, texts(reply)


def test_back_asks_the_previous_question_again(client: Client) -> None:
    sender = at_question_three(client, "back")
    reply = client.say(sender, "revenir à la question précédente")
    assert asked_position(reply) == "2/13"
    assert client.tracker(sender)["slots"]["size"] is None
    reply = client.say(sender, payload("size", "tpe"))
    assert asked_position(reply) == "3/13"
    assert client.tracker(sender)["slots"]["size"] == "tpe"


def test_back_on_the_first_question_says_so(client: Client) -> None:
    sender = client.new_sender("back1")
    client.say(sender, "/start_diagnostic")
    reply = client.say(sender, "/go_back")
    assert "première question" in texts(reply)
    assert asked_position(reply) == "1/13"


def test_restart_clears_the_answers(client: Client) -> None:
    sender = at_question_three(client, "restart")
    reply = client.say(sender, "je veux tout recommencer")
    assert asked_position(reply) == "1/13"
    slots = client.tracker(sender)["slots"]
    assert slots["actor_type"] is None and slots["size"] is None


def test_stop_keeps_answers_and_resume_continues(client: Client) -> None:
    sender = at_question_three(client, "stop")
    reply = client.say(sender, "arrêter")
    assert "(2/13)" in texts(reply)
    assert asked_position(reply) is None
    reply = client.say(sender, "/start_diagnostic")
    assert asked_position(reply) == "3/13"


def test_a_not_understood_answer_shows_the_buttons_again_without_looping(client: Client) -> None:
    sender = at_question_three(client, "fallback")
    first = client.say(sender, "zxqv wplk")
    assert asked_position(first) == "3/13"
    assert buttons(first)
    second = client.say(sender, "bla bla ploc")
    assert asked_position(second) == "3/13"
    assert texts(first) != texts(second)  # the second time says how to get out


def test_fallback_outside_the_questionnaire_never_loops(client: Client) -> None:
    sender = client.new_sender("fallback")
    for _ in range(3):
        reply = client.say(sender, "/nlu_fallback")
        titles = [button["title"] for button in buttons(reply)]
        assert "Faire le diagnostic" in titles or "Voir le menu" in titles
    assert asked_position(client.say(sender, "/start_diagnostic")) == "1/13"


def test_a_knowledge_question_in_the_middle_resumes_the_question(client: Client) -> None:
    sender = at_question_three(client, "kb")
    reply = client.say(sender, "c'est quoi le mécénat de compétences ?")
    assert "source :" in texts(reply)
    assert asked_position(reply) == "3/13"
    reply = client.say(sender, "/ask_source")
    assert ".txt" in texts(reply) and asked_position(reply) == "3/13"
