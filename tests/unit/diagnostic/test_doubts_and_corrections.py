"""Doubt asked rather than stored, rejected words, corrections in words, facts given before the start."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnostic.answers import interpret
from bot.diagnostic.corrections import read_before_start, read_correction, sounds_like_a_correction
from bot.diagnostic.questionnaire import Questionnaire, load_questionnaire


@pytest.fixture(scope="module")
def survey() -> Questionnaire:
    return load_questionnaire()


def parse(text: str, intent: str = "inform", entities: list[tuple[str, str, str]] = (),
          ranking: dict[str, float] | None = None) -> dict[str, Any]:
    """A parse whose entities are (type, value, surface) found in ``text`` at their place."""
    ranking = ranking or {intent: 0.9}
    found = []
    for kind, value, surface in entities:
        start = text.index(surface)
        found.append({"entity": kind, "value": value, "start": start, "end": start + len(surface)})
    return {"text": text, "intent": {"name": intent, "confidence": max(ranking.values())},
            "intent_ranking": [{"name": name, "confidence": value} for name, value in ranking.items()],
            "entities": found}


def test_two_close_options_are_asked_not_stored(survey: Questionnaire) -> None:
    message = parse("on en fait de temps en temps, ça devient régulier", "inform_experience_ponctuel",
                    ranking={"inform_experience_ponctuel": 0.42, "inform_experience_habitude": 0.38, "greet": 0.2})
    reading = interpret(survey, message, "experience")
    assert reading.answers == {} and reading.doubts == {"experience": ("ponctuel", "habitude")}


def test_a_clear_option_is_stored(survey: Questionnaire) -> None:
    message = parse("c'est devenu une habitude", "inform_experience_habitude",
                    ranking={"inform_experience_habitude": 0.9, "inform_experience_ponctuel": 0.05})
    assert interpret(survey, message, "experience").answers == {"experience": "habitude"}


def test_a_rejected_word_is_not_read(survey: Questionnaire) -> None:
    message = parse("pas vraiment un réseau, plutôt une asso",
                    entities=[("actor_type", "accompagnement", "réseau"), ("actor_type", "association", "asso")])
    assert interpret(survey, message, "actor_type").answers == {"actor_type": "association"}


def test_two_values_without_a_preference_are_asked(survey: Questionnaire) -> None:
    message = parse("une asso et une entreprise", entities=[("actor_type", "association", "asso"),
                                                            ("actor_type", "entreprise", "entreprise")])
    reading = interpret(survey, message, "actor_type")
    assert reading.answers == {} and reading.doubts == {"actor_type": ("association", "entreprise")}


def test_agents_are_the_staff_of_a_public_body(survey: Questionnaire) -> None:
    message = parse("on est environ 80 agents", entities=[("size", "pme", "80 agents")])
    reading = interpret(survey, message, "actor_type")
    assert reading.answers == {"actor_type": "collectivite", "size": "pme"}


def test_a_head_count_alone_does_not_say_what_kind_of_actor(survey: Questionnaire) -> None:
    message = parse("on est 15 salariés", entities=[("size", "pme", "15 salariés")])
    reading = interpret(survey, message, "actor_type")
    assert "actor_type" not in reading.answers
    assert reading.doubts == {"actor_type": ("entreprise", "association", "collectivite")}


def test_a_company_word_is_a_company(survey: Questionnaire) -> None:
    message = parse("une pme", entities=[("size", "pme", "pme")])
    assert interpret(survey, message, "actor_type").answers["actor_type"] == "entreprise"


def test_agents_contradict_a_company_already_given(survey: Questionnaire) -> None:
    message = parse("on est 80 agents", entities=[("size", "pme", "80 agents")])
    reading = interpret(survey, message, "size", {"actor_type": "entreprise"})
    assert reading.answers == {"size": "pme"}
    assert reading.doubts == {"actor_type": ("collectivite", "entreprise")}


@pytest.mark.parametrize("text", ["non, on est une collectivité", "en fait on a 40 salariés",
                                  "je me suis trompée sur la taille", "modifier ma réponse sur l'évaluation"])
def test_corrections_sound_like_corrections(text: str) -> None:
    assert sounds_like_a_correction(text)


def test_a_correction_replaces_an_earlier_answer(survey: Questionnaire) -> None:
    message = parse("non, on est une collectivité", "correct", entities=[("actor_type", "collectivite", "collectivité")])
    correction = read_correction(survey, message, {"actor_type": "entreprise", "size": "pme"})
    assert correction.answers == {"actor_type": "collectivite"} and correction.question is None


def test_a_correction_of_a_size_by_head_count(survey: Questionnaire) -> None:
    message = parse("en fait on a 40 salariés", "correct")
    assert read_correction(survey, message, {"size": "tpe"}).answers == {"size": "pme"}


def test_a_named_question_without_its_value_is_asked_again(survey: Questionnaire) -> None:
    correction = read_correction(survey, parse("je me suis trompée sur la taille", "correct"), {"size": "tpe"})
    assert correction.answers == {} and correction.question == "size"


def test_a_correction_of_a_sentence_level_answer(survey: Questionnaire) -> None:
    message = parse("en fait on suit des indicateurs", "correct",
                    ranking={"correct": 0.3, "inform_evaluation_indicateurs": 0.6, "inform_evaluation_bilan": 0.1})
    assert read_correction(survey, message, {"evaluation": "non"}).answers == {"evaluation": "indicateurs"}


def test_what_one_says_of_oneself_before_the_start_is_kept(survey: Questionnaire) -> None:
    message = parse("je suis chargée de mission dans une communauté d'agglo", "ask_definition",
                    entities=[("scale", "departement", "communauté d'agglo")])
    assert read_before_start(survey, message) == {"actor_type": "collectivite", "scale": "departement"}


def test_what_one_asks_about_is_not_an_answer(survey: Questionnaire) -> None:
    message = parse("des exemples d'associations", "ask_examples",
                    entities=[("partner_type", "associations", "associations")])
    assert read_before_start(survey, message) == {}


def test_a_second_value_that_qualifies_the_first_is_not_a_doubt(survey: Questionnaire) -> None:
    message = parse("l'accès au logement des jeunes", entities=[("theme", "logement", "logement"),
                                                                 ("theme", "jeunesse", "jeunes")])
    assert interpret(survey, message, "theme").answers == {"theme": "logement"}


def test_two_values_joined_by_et_are_a_doubt(survey: Questionnaire) -> None:
    message = parse("le logement et l'emploi", entities=[("theme", "logement", "logement"),
                                                          ("theme", "emploi", "emploi")])
    assert interpret(survey, message, "theme").doubts == {"theme": ("logement", "emploi")}


@pytest.mark.parametrize(("text", "scale"), [("sur Marseille surtout", "local"), ("ds le 59", "departement"),
                                             ("un peu partout en Bretagne", "region")])
def test_a_place_gives_the_scale(survey: Questionnaire, text: str, scale: str) -> None:
    assert interpret(survey, parse(text, "nlu_fallback", ranking={"nlu_fallback": 0.4}), "scale").answers == {
        "scale": scale}


@pytest.mark.parametrize(("text", "horizon"), [("sur 24 mois", "moyen"), ("pour les 5 à 10 ans qui viennent", "long"),
                                               ("dans l'année, disons 6 mois", "court")])
def test_a_duration_gives_the_horizon(survey: Questionnaire, text: str, horizon: str) -> None:
    message = parse(text, "inform_horizon_moyen", ranking={"inform_horizon_moyen": 0.5, "inform_horizon_long": 0.4})
    assert interpret(survey, message, "horizon").answers == {"horizon": horizon}


def test_the_closest_training_example_answers_when_diet_gives_no_option(survey: Questionnaire) -> None:
    """DIET read a profile statement (« inform ») and left every option of the goal near zero."""
    message = parse("mobiliser nos salariés au service de l'intérêt général", "inform",
                    ranking={"inform": 0.99, "inform_goal_salaries": 0.001})
    reading = interpret(survey, message, "goal")
    assert reading.answers == {"goal": "salaries"} and reading.how == {"goal": "example"}


def test_a_support_structure_accompanies_others(survey: Questionnaire) -> None:
    message = parse("on est le DLA du département", "inform", entities=[("actor_type", "accompagnement", "DLA")],
                    ranking={"inform": 0.99})
    assert interpret(survey, message, "support").answers["support"] == "accompagnateur"


def test_being_accompanied_by_a_network_is_not_accompanying(survey: Questionnaire) -> None:
    message = parse("on est accompagnés par un réseau", "inform_support_accompagne",
                    entities=[("actor_type", "accompagnement", "réseau")],
                    ranking={"inform_support_accompagne": 0.9, "inform_support_accompagnateur": 0.05})
    assert interpret(survey, message, "support").answers["support"] == "accompagne"
