"""Reading a message as answers (bot.diagnostic.answers), with hand-written NLU parses."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnostic.answers import interpret, is_answering_intent, normalise, size_from_headcount, summarise
from bot.diagnostic.questionnaire import Questionnaire, load_questionnaire


@pytest.fixture(scope="module")
def survey() -> Questionnaire:
    return load_questionnaire()


def parse(text: str, intent: str = "inform", entities: list[tuple[str, str]] = (), ranking: dict[str, float] | None = None) -> dict[str, Any]:
    ranking = ranking or {intent: 0.9}
    return {
        "text": text,
        "intent": {"name": intent, "confidence": max(ranking.values())},
        "intent_ranking": [{"name": name, "confidence": value} for name, value in ranking.items()],
        "entities": [{"entity": kind, "value": value, "start": index} for index, (kind, value) in enumerate(entities)],
    }


def payload_parse(question_id: str, choice: Any) -> dict[str, Any]:
    values = choice if isinstance(choice, list) else [choice]
    return parse("/answer", "answer", [("question_id", question_id)] + [("choice", value) for value in values])


def test_button_payload_is_taken_as_is(survey: Questionnaire) -> None:
    assert interpret(survey, payload_parse("goal", "odd"), "goal").answers == {"goal": "odd"}


def test_button_payload_for_another_question_is_accepted(survey: Questionnaire) -> None:
    assert interpret(survey, payload_parse("size", "tpe"), "goal").answers == {"size": "tpe"}


@pytest.mark.parametrize(
    ("question_id", "choice"),
    [("colour", "blue"), ("size", "gigantesque"), ("size", "collectivite"), ("size", ["tpe", "pme"])],
)
def test_forged_payload_is_refused(survey: Questionnaire, question_id: str, choice: Any) -> None:
    reading = interpret(survey, payload_parse(question_id, choice), "size")
    assert reading.forged_payload and reading.answers == {}


def test_payload_without_entities_is_forged(survey: Questionnaire) -> None:
    assert interpret(survey, parse("/answer", "answer"), "size").forged_payload


def test_dont_know_is_nsp_for_the_asked_question(survey: Questionnaire) -> None:
    assert interpret(survey, parse("jsp", "dont_know"), "evaluation").answers == {"evaluation": "nsp"}


def test_typed_label_matches_without_accents_or_case(survey: Questionnaire) -> None:
    label = survey.question("experience").option("ponctuel").label
    typed = normalise(label).upper()
    assert interpret(survey, parse(typed, "nlu_fallback"), "experience").answers == {"experience": "ponctuel"}


def test_profile_entities_answer_several_questions(survey: Questionnaire) -> None:
    message = parse("asso de quartier, que des bénévoles", entities=[("actor_type", "association"),
                                                                      ("scale", "local"), ("size", "benevole")])
    assert interpret(survey, message, "actor_type").answers == {
        "actor_type": "association", "scale": "local", "size": "benevole"}


def test_passing_remarks_never_overwrite_earlier_answers(survey: Questionnaire) -> None:
    message = parse("une pme locale", entities=[("size", "pme"), ("scale", "local")])
    reading = interpret(survey, message, "scale", {"size": "tpe"})
    assert reading.answers == {"scale": "local"}


def test_unknown_entity_values_are_ignored(survey: Questionnaire) -> None:
    message = parse("xyzzy", entities=[("actor_type", "asso")])
    assert interpret(survey, message, "actor_type").answers == {}


@pytest.mark.parametrize(
    ("text", "size"),
    [("on est 15 salariés", "pme"), ("3 salaries", "tpe"), ("plus de 1 200 collaborateurs", "grande"),
     ("0 salarié", "benevole"), ("250 personnes", "grande"), ("9 employés", "tpe"), ("bonjour", None)],
)
def test_headcount_gives_the_size(text: str, size: str | None) -> None:
    assert size_from_headcount(text) == size


def test_partner_types_make_a_list_for_partners(survey: Questionnaire) -> None:
    message = parse("la mairie et deux entreprises", entities=[("partner_type", "publics"), ("partner_type", "entreprises")])
    assert interpret(survey, message, "partners").answers == {"partners": ["publics", "entreprises"]}


def test_partner_types_are_not_read_when_another_question_is_asked(survey: Questionnaire) -> None:
    message = parse("la mairie", entities=[("partner_type", "publics")])
    assert interpret(survey, message, "experience").answers == {}


def test_three_types_wanted_means_all(survey: Questionnaire) -> None:
    message = parse("tout le monde", entities=[("partner_type", t) for t in ("associations", "publics", "entreprises")])
    assert interpret(survey, message, "partners_wanted").answers == {"partners_wanted": "tous"}


def test_option_intent_is_read_in_the_context_of_the_asked_question(survey: Questionnaire) -> None:
    ranking = {"inform_resources_aucun": 0.7, "inform_experience_aucun": 0.2, "inform_experience_habitude": 0.05}
    message = parse("pas encore", "inform_resources_aucun", ranking=ranking)
    assert interpret(survey, message, "experience").answers == {"experience": "aucun"}
    assert interpret(survey, message, "resources").answers == {"resources": "aucun"}


def test_too_weak_an_option_is_not_an_answer(survey: Questionnaire) -> None:
    message = parse("hmm", "nlu_fallback", ranking={"nlu_fallback": 0.6, "greet": 0.38, "inform_goal_odd": 0.02})
    assert interpret(survey, message, "goal").answers == {}


def test_an_option_is_stored_only_with_a_clear_lead_over_the_next(survey: Questionnaire) -> None:
    # Under twice the next option's confidence it is a doubt between the two; from twice, an answer.
    doubtful = parse("euh, ça dépend des années", "inform_experience_ponctuel",
                     ranking={"inform_experience_ponctuel": 0.6, "inform_experience_habitude": 0.35, "deny": 0.05})
    reading = interpret(survey, doubtful, "experience")
    assert reading.answers == {}
    assert set(reading.doubts["experience"]) >= {"ponctuel", "habitude"}
    clear = parse("de temps en temps", "inform_experience_ponctuel",
                  ranking={"inform_experience_ponctuel": 0.66, "inform_experience_habitude": 0.32})
    assert interpret(survey, clear, "experience").answers == {"experience": "ponctuel"}


def test_answering_intents() -> None:
    assert is_answering_intent("inform_goal_odd") and is_answering_intent("answer") and is_answering_intent("deny")
    assert not is_answering_intent("why_question") and not is_answering_intent("ask_doors")
    assert not is_answering_intent(None)


def test_summary_reads_answers_in_questionnaire_order(survey: Questionnaire) -> None:
    text = summarise(survey, {"size": "benevole", "actor_type": "association"})
    assert text.index(survey.question("actor_type").option("association").summary) < text.index(
        survey.question("size").option("benevole").summary)


@pytest.mark.parametrize(
    ("text", "size"),
    [("moins de 10 salariés", "tpe"), ("plus de 249 salariés", "grande"), ("je suis la seule salariée", "tpe")],
)
def test_headcount_qualifiers(text: str, size: str) -> None:
    assert size_from_headcount(text) == size


def test_a_bare_number_is_a_size_only_when_size_is_asked(survey: Questionnaire) -> None:
    assert interpret(survey, parse("plus de 250", "nlu_fallback"), "size").answers == {"size": "grande"}
    assert interpret(survey, parse("plus de 250", "nlu_fallback"), "scale").answers == {}


def test_a_partner_word_answers_who_you_are(survey: Questionnaire) -> None:
    message = parse("la mairie", entities=[("partner_type", "publics")])
    assert interpret(survey, message, "actor_type").answers == {"actor_type": "collectivite"}


def test_an_actor_word_answers_with_whom(survey: Questionnaire) -> None:
    message = parse("avec des entreprises", entities=[("actor_type", "entreprise")])
    answered = {"actor_type": "association"}
    assert interpret(survey, message, "partners_wanted", answered).answers == {"partners_wanted": "entreprises"}


def test_no_means_the_lowest_option_of_a_scored_question(survey: Questionnaire) -> None:
    message = parse("non pas vraiment", "deny", ranking={"deny": 0.9, "inform_goal_odd": 0.01})
    assert interpret(survey, message, "evaluation").answers == {"evaluation": "non"}
    assert interpret(survey, message, "goal").answers == {}
