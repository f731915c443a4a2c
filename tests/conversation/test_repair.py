"""Repairing a conversation over REST: corrections in words and by button, during the questionnaire and after
the result; the recap with a change; a doubt asked and answered; answers given before the start; the words
people use to move around; knowledge questions routed to the right answer."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnostic.questionnaire import load_questionnaire
from tests.client import Client, asked_position, buttons, payload, texts

ANSWERS = {
    "actor_type": "entreprise", "size": "pme", "scale": "departement", "theme": "emploi",
    "experience": "ponctuel", "partners": "associations", "organisation": "convention", "evaluation": "non",
    "resources": "temps", "support": "non", "goal": "salaries", "partners_wanted": "associations", "horizon": "court",
}  # fmt: skip
QUESTIONS = [question.id for question in load_questionnaire().questions]


def start(client: Client, sender: str) -> list[dict[str, Any]]:
    client.say(sender, "bonjour")
    return client.say(sender, "/start_diagnostic")


def answer(client: Client, sender: str, ids: list[str]) -> list[dict[str, Any]]:
    reply: list[dict[str, Any]] = []
    for question_id in ids:
        reply = client.say(sender, payload(question_id, ANSWERS[question_id]))
    return reply


def slots(client: Client, sender: str) -> dict[str, Any]:
    return client.tracker(sender)["slots"]


def finished(client: Client, prefix: str) -> str:
    sender = client.new_sender(prefix)
    start(client, sender)
    answer(client, sender, QUESTIONS)
    assert "porte d'entrée recommandée" in texts(client.say(sender, "/confirm_result"))
    return sender


# --- corrections during the questionnaire ------------------------------------------------------------------

def test_a_correction_in_words_during_the_questionnaire(client: Client) -> None:
    sender = client.new_sender("fix-words")
    start(client, sender)
    answer(client, sender, QUESTIONS[:4])
    reply = client.say(sender, "non, on est une collectivité")
    assert "C'est corrigé" in texts(reply) and "collectivité" in texts(reply)
    assert slots(client, sender)["actor_type"] == "collectivite"
    assert asked_position(reply) == "5/13", texts(reply)  # the questionnaire goes on where it was


def test_a_size_corrected_in_words(client: Client) -> None:
    sender = client.new_sender("fix-size")
    start(client, sender)
    answer(client, sender, QUESTIONS[:6])
    reply = client.say(sender, "en fait on a 300 salariés")
    assert "C'est corrigé" in texts(reply) and slots(client, sender)["size"] == "grande"
    assert asked_position(reply) == "7/13"


def test_a_wrong_answer_named_is_asked_again_then_the_questionnaire_goes_on(client: Client) -> None:
    sender = client.new_sender("fix-named")
    start(client, sender)
    answer(client, sender, QUESTIONS[:5])
    reply = client.say(sender, "je me suis trompée sur la taille")
    assert asked_position(reply) == "2/13", texts(reply)
    reply = client.say(sender, payload("size", "grande"))
    assert asked_position(reply) == "6/13", texts(reply)
    assert slots(client, sender)["size"] == "grande"


def test_a_correction_without_what_to_correct_lists_the_answers(client: Client) -> None:
    sender = client.new_sender("fix-which")
    start(client, sender)
    answer(client, sender, QUESTIONS[:3])
    reply = client.say(sender, "je me suis trompé")
    assert "Quelle réponse voulez-vous modifier" in texts(reply)
    change = [button for button in buttons(reply) if button["payload"].startswith("/change_answer")]
    assert len(change) == 3
    reply = client.say(sender, change[1]["payload"])  # the size
    assert asked_position(reply) == "2/13"


def test_an_older_button_changes_that_answer(client: Client) -> None:
    sender = client.new_sender("fix-button")
    start(client, sender)
    answer(client, sender, QUESTIONS[:4])
    reply = client.say(sender, payload("actor_type", "association"))
    assert "J'ai mis à jour votre réponse" in texts(reply)
    assert asked_position(reply) == "5/13" and slots(client, sender)["actor_type"] == "association"


# --- the recap ------------------------------------------------------------------------------------------

def test_the_recap_lists_the_answers_and_lets_one_change(client: Client) -> None:
    sender = client.new_sender("recap")
    start(client, sender)
    reply = answer(client, sender, QUESTIONS)
    recap = texts(reply)
    assert "Avant votre résultat" in recap and recap.count("\n- ") == 13
    titles = [button["title"] for button in buttons(reply)]
    assert titles == ["C'est bon, voir mon résultat", "Modifier une réponse"]
    reply = client.say(sender, "/change_answer")
    reply = client.say(sender, next(b["payload"] for b in buttons(reply) if "evaluation" in b["payload"]))
    assert asked_position(reply) == "8/13"
    reply = client.say(sender, payload("evaluation", "impact"))
    assert "Avant votre résultat" in texts(reply)  # the recap again, with the change
    reply = client.say(sender, "/confirm_result")
    assert "porte d'entrée recommandée" in texts(reply)
    assert client.diagnostic(sender).json()["answers"]["evaluation"] == "impact"


# --- after the result ----------------------------------------------------------------------------------

def test_a_correction_after_the_result_computes_it_again(client: Client) -> None:
    sender = finished(client, "fix-after")
    before = client.diagnostic(sender).json()
    reply = client.say(sender, "non c'est faux, on n'est pas une entreprise, on est une association")
    assert "C'est corrigé" in texts(reply) and "porte d'entrée recommandée" in texts(reply)
    after = client.diagnostic(sender).json()
    assert after["answers"]["actor_type"] == "association"
    assert after["status"] == "completed" and after["completed_at"] >= before["completed_at"]
    assert after["scores"] != before["scores"]
    assert after["previous"] is None  # the same diagnostic corrected, not a new one


def test_a_button_after_the_result_computes_it_again(client: Client) -> None:
    sender = finished(client, "fix-after-button")
    reply = client.say(sender, payload("goal", "territoire"))
    assert "porte d'entrée recommandée" in texts(reply)
    assert client.diagnostic(sender).json()["answers"]["goal"] == "territoire"


def test_modifier_ma_reponse_after_the_result(client: Client) -> None:
    sender = finished(client, "change-after")
    reply = client.say(sender, "modifier ma réponse sur l'évaluation")
    assert asked_position(reply) == "8/13", texts(reply)
    reply = client.say(sender, payload("evaluation", "indicateurs"))
    assert "porte d'entrée recommandée" in texts(reply)  # computed again, without a second recap
    assert client.diagnostic(sender).json()["answers"]["evaluation"] == "indicateurs"


# --- doubt -----------------------------------------------------------------------------------------------

def test_a_doubt_is_asked_and_answered(client: Client) -> None:
    sender = client.new_sender("doubt")
    start(client, sender)
    reply = client.say(sender, "on est 15 salariés")
    assert "Vous voulez dire" in texts(reply), texts(reply)
    assert slots(client, sender)["actor_type"] is None
    offered = [button["payload"] for button in buttons(reply)]
    assert payload("actor_type", "entreprise") in offered and payload("actor_type", "association") in offered
    reply = client.say(sender, payload("actor_type", "association"))
    assert slots(client, sender)["actor_type"] == "association" and slots(client, sender)["size"] == "pme"
    assert asked_position(reply) == "3/13"


# --- answers before the start -----------------------------------------------------------------------------

def test_a_first_message_that_answers_starts_the_questionnaire_and_keeps_it(client: Client) -> None:
    sender = client.new_sender("before")
    client.say(sender, "bonjour")
    reply = client.say(sender, "je suis chargée de mission dans une communauté d'agglo")
    assert "C'est noté" in texts(reply), texts(reply)
    kept = slots(client, sender)
    assert kept["actor_type"] == "collectivite" and kept["scale"] == "departement"
    assert asked_position(reply) == "2/13"


def test_answers_given_in_a_knowledge_question_are_kept_when_it_starts(client: Client) -> None:
    sender = client.new_sender("before-kb")
    client.say(sender, "bonjour")
    client.say(sender, "on est une petite asso de quartier, vous avez des exemples d'alliances ?")
    reply = client.say(sender, "/start_diagnostic")
    assert "C'est noté" in texts(reply), texts(reply)
    assert slots(client, sender)["actor_type"] == "association" and slots(client, sender)["scale"] == "local"
    assert asked_position(reply) == "2/13"


# --- the words people use to move around ------------------------------------------------------------------

@pytest.mark.parametrize("words", ["revenir", "retour", "précédent"])
def test_going_back(client: Client, words: str) -> None:
    sender = client.new_sender("back")
    start(client, sender)
    answer(client, sender, QUESTIONS[:3])
    assert asked_position(client.say(sender, words)) == "3/13"


@pytest.mark.parametrize("words", ["continuer", "on continue", "suivant"])
def test_going_on(client: Client, words: str) -> None:
    sender = client.new_sender("on")
    start(client, sender)
    answer(client, sender, QUESTIONS[:2])
    client.say(sender, "arrêter")
    reply = client.say(sender, words)
    assert asked_position(reply) == "3/13", texts(reply)
    assert asked_position(client.say(sender, words)) == "3/13"  # inside the questionnaire: the same question


@pytest.mark.parametrize("words", ["ok on y va", "c'est parti", "on commence"])
def test_starting(client: Client, words: str) -> None:
    sender = client.new_sender("go")
    client.say(sender, "bonjour")
    assert asked_position(client.say(sender, words)) == "1/13"


@pytest.mark.parametrize("words", ["à quoi tu sers ?", "c'est quoi ce truc ?", "c'est quoi votre truc ?"])
def test_what_the_assistant_is(client: Client, words: str) -> None:
    reply = texts(client.say(client.new_sender("what"), words))
    assert "en 13 questions" in reply and "dans ma base" not in reply


def test_goodbye_says_how_to_come_back(client: Client) -> None:
    reply = texts(client.say(client.new_sender("bye"), "merci au revoir"))
    assert "Au revoir" in reply and "Pour revenir" in reply


# --- knowledge questions, routed -------------------------------------------------------------------------

def test_why_make_alliances_is_a_knowledge_question(client: Client) -> None:
    reply = texts(client.say(client.new_sender("why-alliance"), "Pourquoi faire alliance ?"))
    assert "Aucune question n'est en cours" not in reply and "source :" in reply


def test_who_launched_the_mission(client: Client) -> None:
    reply = texts(client.say(client.new_sender("mission"), "Qui a lancé la mission sur les alliances stratégiques ?"))
    assert "Gabriel Attal" in reply


def test_the_families_of_partners(client: Client) -> None:
    reply = texts(client.say(client.new_sender("families"),
                             "avec quels types de partenaires une association peut-elle faire alliance ?"))
    assert "pairs" in reply and "acteurs publics" in reply


def test_a_place_with_no_example_says_so_and_offers_the_nearest(client: Client) -> None:
    reply = texts(client.say(client.new_sender("place"), "des exemples d'alliances à Colmar"))
    assert "Je n'ai pas d'exemple à Colmar" in reply and "Grand Est" in reply
    assert "Mulhouse" in reply or "Strasbourg" in reply or "Haut-Rhin" in reply
