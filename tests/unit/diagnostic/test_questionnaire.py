"""Tests of bot.diagnostic.questionnaire: the YAML matches the spec and bad data is refused clearly."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.diagnostic.questionnaire import (
    DEFAULT_PATH,
    NSP,
    REPO_ROOT,
    Questionnaire,
    QuestionnaireError,
    load_questionnaire,
)

# The public contract of shared/design/questionnaire.md: question ids in order,
# with their section and option ids in order.
SPEC_QUESTIONS: list[tuple[str, str, list[str]]] = [
    ("actor_type", "profil",
     ["association", "entreprise", "collectivite", "fondation", "accompagnement", "autre"]),
    ("size", "profil", ["benevole", "tpe", "pme", "grande"]),
    ("scale", "profil", ["local", "departement", "region", "national"]),
    ("theme", "profil",
     ["emploi", "jeunesse", "sante", "lien_social", "environnement", "logement", "economie", "autre"]),
    ("experience", "maturite", ["aucun", "ponctuel", "habitude", "alliance"]),
    ("partners", "maturite", ["aucun", "associations", "publics", "entreprises", "plusieurs"]),
    ("organisation", "maturite", ["informel", "convention", "gouvernance", "vision"]),
    ("evaluation", "maturite", ["non", "bilan", "indicateurs", "impact"]),
    ("resources", "moyens", ["aucun", "temps", "referent", "equipe"]),
    ("support", "moyens", ["non", "connait", "accompagne", "accompagnateur"]),
    ("goal", "envies", ["territoire", "innovation", "salaries", "odd"]),
    ("partners_wanted", "envies", ["associations", "entreprises", "publics", "tous"]),
    ("horizon", "envies", ["court", "moyen", "long"]),
]

SPEC_SCORES: dict[str, dict[str, int]] = {
    "experience": {"aucun": 0, "ponctuel": 1, "habitude": 2, "alliance": 3},
    "partners": {"aucun": 0, "associations": 1, "publics": 1, "entreprises": 1, "plusieurs": 3},
    "organisation": {"informel": 0, "convention": 1, "gouvernance": 2, "vision": 3},
    "evaluation": {"non": 0, "bilan": 1, "indicateurs": 2, "impact": 3},
    "resources": {"aucun": 0, "temps": 1, "referent": 2, "equipe": 3},
    "support": {"non": 0, "connait": 1, "accompagne": 2, "accompagnateur": 3},
}

SPEC_DOOR_POINTS: dict[str, dict[str, dict[str, int]]] = {
    "actor_type": {
        "association": {"innovation": 1},
        "entreprise": {"salaries": 1, "odd": 1},
        "collectivite": {"territoire": 2},
        "fondation": {"innovation": 1},
        "accompagnement": {"territoire": 1},
        "autre": {},
    },
    "size": {"benevole": {}, "tpe": {}, "pme": {}, "grande": {}},
    "scale": {
        "local": {"territoire": 1},
        "departement": {"territoire": 1},
        "region": {},
        "national": {"odd": 1},
    },
    "goal": {
        "territoire": {"territoire": 4},
        "innovation": {"innovation": 4},
        "salaries": {"salaries": 4},
        "odd": {"odd": 4},
    },
    "partners_wanted": {
        "associations": {"innovation": 1},
        "entreprises": {"salaries": 2},
        "publics": {"territoire": 2},
        "tous": {"territoire": 2, "innovation": 1},
    },
    "horizon": {
        "court": {"salaries": 1, "odd": 1},
        "moyen": {"innovation": 1},
        "long": {"territoire": 1, "odd": 1},
    },
}


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire()


def raw_data() -> dict[str, Any]:
    """A fresh copy of the YAML structure, to break on purpose."""
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def find(items: list[dict[str, Any]], item_id: str) -> dict[str, Any]:
    return next(item for item in items if item["id"] == item_id)


def question_raw(data: dict[str, Any], qid: str) -> dict[str, Any]:
    return find(data["questions"], qid)


def option_raw(data: dict[str, Any], qid: str, oid: str) -> dict[str, Any]:
    return find(question_raw(data, qid)["options"], oid)


# ------------------------------------------------------------------ the data


def test_default_path_is_the_repository_data_file() -> None:
    assert DEFAULT_PATH == REPO_ROOT / "data" / "questionnaire.yml"
    assert (REPO_ROOT / "bot" / "diagnostic" / "questionnaire.py").is_file()


def test_loads_with_repo_relative_source_name(q: Questionnaire) -> None:
    assert q.source_name == "data/questionnaire.yml"
    assert load_questionnaire(str(DEFAULT_PATH)) == q


def test_thirteen_question_ids_in_order(q: Questionnaire) -> None:
    assert q.total == 13
    assert list(q.question_ids) == [qid for qid, _, _ in SPEC_QUESTIONS]


@pytest.mark.parametrize(("qid", "section", "option_ids"), SPEC_QUESTIONS)
def test_every_spec_option_present_in_order(
    q: Questionnaire, qid: str, section: str, option_ids: list[str]
) -> None:
    question = q.question(qid)
    assert question.section == section
    assert list(question.option_ids) == option_ids


def test_doors_levels_dimensions_rules(q: Questionnaire) -> None:
    assert [d.id for d in q.doors] == ["territoire", "innovation", "salaries", "odd"]
    assert [d.label for d in q.doors] == [
        "La co-construction territoriale",
        "L'innovation sociétale",
        "L'engagement des salariés",
        "La contribution aux ODD",
    ]
    assert [(lv.id, lv.min, lv.label) for lv in q.levels] == [
        ("decouverte", 0, "Découverte"),
        ("habitude", 30, "Habitude"),
        ("aguerri", 55, "Aguerri"),
        ("moteur", 80, "Moteur"),
    ]
    assert [(d.id, d.label, d.questions, d.max) for d in q.dimensions] == [
        ("experience", "Expérience", ("experience", "partners"), 6),
        ("organisation", "Organisation", ("organisation",), 3),
        ("evaluation", "Évaluation", ("evaluation",), 3),
        ("moyens", "Moyens", ("resources", "support"), 6),
    ]
    assert [s.id for s in q.sections] == ["profil", "maturite", "moyens", "envies"]
    assert q.tie_break.question == "goal"
    assert q.tie_break.order == ("odd", "salaries", "territoire", "innovation")
    assert (q.maturity_rule.level, q.maturity_rule.door, q.maturity_rule.points) == (
        "decouverte",
        "innovation",
        -1,
    )
    assert q.max_maturity_points == 18
    assert [x.id for x in q.scored_questions] == list(SPEC_SCORES)


@pytest.mark.parametrize("qid", list(SPEC_SCORES))
def test_scores_match_spec(q: Questionnaire, qid: str) -> None:
    question = q.question(qid)
    assert question.scored is True
    assert {o.id: o.score for o in question.options} == SPEC_SCORES[qid]
    assert question.min_score == 0
    assert question.max_score == 3


@pytest.mark.parametrize("qid", list(SPEC_DOOR_POINTS))
def test_door_points_match_spec(q: Questionnaire, qid: str) -> None:
    question = q.question(qid)
    assert question.scored is False
    assert {o.id: dict(o.doors) for o in question.options} == SPEC_DOOR_POINTS[qid]


def test_only_spec_options_give_door_points(q: Questionnaire) -> None:
    for question in q.questions:
        if question.id not in SPEC_DOOR_POINTS:
            assert all(not o.doors for o in question.options), question.id


def test_partners_is_the_only_multi_question(q: Questionnaire) -> None:
    multi = [x.id for x in q.questions if x.is_multi]
    assert multi == ["partners"]
    partners = q.question("partners")
    assert partners.multi is not None
    assert partners.multi.choices == ("associations", "publics", "entreprises")
    assert partners.multi.max == 3


def test_texts_are_written_for_every_entry(q: Questionnaire) -> None:
    for question in q.questions:
        assert question.text.strip() and question.why.strip(), question.id
        assert question.source and ".txt L" in question.source, question.id
        # « why » is two sentences (or so) of plain French, not a wall of text.
        assert 80 <= len(question.why) <= 400, question.id
        for option in question.options:
            assert option.label and option.summary, (question.id, option.id)
            if option.doors:
                assert option.reason and option.reason.startswith("vous "), (question.id, option.id)
    for door in q.doors:
        assert door.meaning
    for level in q.levels:
        assert level.meaning


def test_reasons_read_as_in_the_spec(q: Questionnaire) -> None:
    assert q.option("goal", "territoire").reason == "vous souhaitez répondre aux besoins de votre territoire"
    assert q.option("actor_type", "association").summary == "une association"
    assert q.option("size", "benevole").summary == "bénévoles uniquement"


def test_nsp_is_implicit(q: Questionnaire) -> None:
    for question in q.questions:
        assert NSP not in question.option_ids
        last = question.choices[-1]
        assert (last.id, last.label) == ("nsp", "Je ne sais pas")
        assert len(question.choices) == len(question.options) + 1
    assert q.option("evaluation", "nsp").score == 0
    assert q.option("goal", "nsp").score is None
    assert not q.option("goal", "nsp").doors


# ------------------------------------------------------------------ the API


def test_lookup_and_position(q: Questionnaire) -> None:
    assert q.question("goal").text == "Qu'attendez-vous d'abord d'une alliance ?"
    assert q.position("actor_type") == 1
    assert q.position("experience") == 5
    assert q.position("horizon") == 13
    assert q.has_question("goal") and not q.has_question("nope")
    with pytest.raises(KeyError):
        q.question("nope")
    with pytest.raises(KeyError):
        q.position("nope")


def test_previous(q: Questionnaire) -> None:
    assert q.previous("actor_type") is None
    previous = q.previous("size")
    assert previous is not None and previous.id == "actor_type"
    previous = q.previous("horizon")
    assert previous is not None and previous.id == "partners_wanted"


def test_next_unanswered(q: Questionnaire) -> None:
    first = q.next_unanswered({})
    assert first is not None and first.id == "actor_type"
    # nsp is an answer; an invalid stored value is not.
    nxt = q.next_unanswered({"actor_type": "association", "size": "nsp", "scale": "bogus"})
    assert nxt is not None and nxt.id == "scale"
    nxt = q.next_unanswered({"actor_type": "association", "size": "tpe", "scale": "local"})
    assert nxt is not None and nxt.id == "theme"
    everything: dict[str, Any] = {qid: options[0] for qid, _, options in SPEC_QUESTIONS}
    assert q.next_unanswered(everything) is None
    everything["partners"] = ["publics"]
    assert q.next_unanswered(everything) is None


def test_option_lookup(q: Questionnaire) -> None:
    option = q.option("actor_type", "collectivite")
    assert option.label == "Une collectivité ou un acteur public"
    assert dict(option.doors) == {"territoire": 2}
    assert option.reason == "vous êtes une collectivité ou un acteur public"
    with pytest.raises(KeyError):
        q.option("actor_type", "nope")
    with pytest.raises(KeyError):
        q.option("nope", "association")


@pytest.mark.parametrize(
    ("qid", "value", "valid"),
    [
        ("actor_type", "association", True),
        ("actor_type", "nsp", True),
        ("actor_type", "nope", False),
        ("actor_type", "", False),
        ("actor_type", ["association"], False),  # lists only on multi questions
        ("actor_type", None, False),
        ("actor_type", 3, False),
        ("nope", "association", False),  # forged payload: unknown question
        ("partners", "plusieurs", True),
        ("partners", "nsp", True),
        ("partners", ["publics"], True),
        ("partners", ["associations", "publics", "entreprises"], True),
        ("partners", ("publics", "entreprises"), True),
        ("partners", ["publics", "publics"], True),
        ("partners", [], False),
        ("partners", ["aucun"], False),
        ("partners", ["plusieurs"], False),
        ("partners", ["publics", "nope"], False),
        ("partners", ["publics", 1], False),
        ("partners", {"publics": 1}, False),
        ("goal", "odd", True),
        ("experience", "alliance", True),
        ("experience", "aucun", True),
    ],
)
def test_is_valid_answer(q: Questionnaire, qid: str, value: object, valid: bool) -> None:
    assert q.is_valid_answer(qid, value) is valid


# ------------------------------------------------------------------ validation

Mutation = Callable[[dict[str, Any]], None]


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: object) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        path(data)[key] = value

    return mutate


def _delete(path: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del path(data)[key]

    return mutate


def _duplicate_question(data: dict[str, Any]) -> None:
    question_raw(data, "horizon")["id"] = "goal"


def _duplicate_option(data: dict[str, Any]) -> None:
    option_raw(data, "goal", "salaries")["id"] = "odd"


def _dimension_questions(data: dict[str, Any]) -> None:
    find(data["dimensions"], "moyens")["questions"] = ["resources", "xyz"]


def _levels_not_increasing(data: dict[str, Any]) -> None:
    find(data["levels"], "habitude")["min"] = 60


def _nsp_listed(data: dict[str, Any]) -> None:
    question_raw(data, "size")["options"].append(
        {"id": "nsp", "label": "Je ne sais pas", "summary": "je ne sais pas"}
    )


def _tie_break_incomplete(data: dict[str, Any]) -> None:
    data["tie_break"]["order"] = ["odd", "salaries", "territoire"]


def _multi_unknown_choice(data: dict[str, Any]) -> None:
    question_raw(data, "partners")["multi"]["choices"] = ["publics", "xyz"]


def _unknown_field(data: dict[str, Any]) -> None:
    question_raw(data, "theme")["lable"] = "Thème"


def _option_without_id(data: dict[str, Any]) -> None:
    del question_raw(data, "size")["options"][1]["id"]


def _no_questions(data: dict[str, Any]) -> None:
    data["questions"] = []


def goal_odd(data: dict[str, Any]) -> dict[str, Any]:
    return option_raw(data, "goal", "odd")


VALIDATION_CASES: list[tuple[str, Mutation, str]] = [
    ("missing option label", _delete(goal_odd, "label"),
     "question 'goal', option 'odd': missing field 'label'"),
    ("missing option summary", _delete(lambda d: option_raw(d, "size", "tpe"), "summary"),
     "question 'size', option 'tpe': missing field 'summary'"),
    ("missing question text", _delete(lambda d: question_raw(d, "theme"), "text"),
     "question 'theme': missing field 'text'"),
    ("missing question why", _delete(lambda d: question_raw(d, "scale"), "why"),
     "question 'scale': missing field 'why'"),
    ("empty question why", _set(lambda d: question_raw(d, "scale"), "why", "  "),
     "question 'scale': field 'why' must be a non-empty text, got '  '"),
    ("missing option id", _option_without_id,
     "question 'size', option #2: missing field 'id'"),
    ("missing score", _delete(lambda d: option_raw(d, "support", "connait"), "score"),
     "question 'support', option 'connait': missing field 'score'"),
    ("missing top-level field", lambda d: d.pop("levels"),
     "missing field 'levels'"),
    ("unknown door", _set(goal_odd, "doors", {"xyz": 4}),
     ("question 'goal', option 'odd': unknown door 'xyz' in field 'doors' "
     "(known doors: territoire, innovation, salaries, odd)")),
    ("door points not an integer", _set(goal_odd, "doors", {"odd": "beaucoup"}),
     ("question 'goal', option 'odd': field 'doors' must give an integer number of points "
     "to 'odd', got 'beaucoup'")),
    ("duplicate question id", _duplicate_question,
     "question 'goal': duplicate question id 'goal' in field 'id' (already used by question #11)"),
    ("duplicate option id", _duplicate_option,
     ("question 'goal', option 'odd': duplicate option id 'odd' in field 'id' "
     "(already used by option #3)")),
    ("score above 3", _set(lambda d: option_raw(d, "experience", "alliance"), "score", 4),
     "question 'experience', option 'alliance': field 'score' must be between 0 and 3, got 4"),
    ("score below 0", _set(lambda d: option_raw(d, "evaluation", "non"), "score", -1),
     "question 'evaluation', option 'non': field 'score' must be between 0 and 3, got -1"),
    ("score not an integer", _set(lambda d: option_raw(d, "evaluation", "non"), "score", "zéro"),
     "question 'evaluation', option 'non': field 'score' must be an integer, got 'zéro'"),
    ("score on unscored question", _set(goal_odd, "score", 2),
     ("question 'goal', option 'odd': field 'score' is only allowed on scored questions "
     "(add 'scored: true')")),
    ("door points without reason", _delete(goal_odd, "reason"),
     ("question 'goal', option 'odd': missing field 'reason' "
     "(required when the option gives door points)")),
    ("levels not increasing", _levels_not_increasing,
     ("level 'aguerri': field 'min' must be greater than the previous level's min (60), "
     "got 55: levels must be increasing")),
    ("first level not at 0", _set(lambda d: find(d["levels"], "decouverte"), "min", 10),
     "level 'decouverte': field 'min' must be 0 for the first level, got 10"),
    ("level above 100", _set(lambda d: find(d["levels"], "moteur"), "min", 120),
     "level 'moteur': field 'min' must be a percentage between 0 and 100, got 120"),
    ("dimension with unknown question", _dimension_questions,
     "dimension 'moyens': unknown question 'xyz' in field 'questions'"),
    ("dimension with wrong max", _set(lambda d: find(d["dimensions"], "moyens"), "max", 5),
     ("dimension 'moyens': field 'max' is 5 but the questions in field 'questions' "
     "add up to 6 points")),
    ("dimension with unscored question",
     _set(lambda d: find(d["dimensions"], "organisation"), "questions", ["goal"]),
     "dimension 'organisation': question 'goal' in field 'questions' is not scored"),
    ("unknown section", _set(lambda d: question_raw(d, "goal"), "section", "desirs"),
     ("question 'goal': unknown section 'desirs' in field 'section' "
     "(known sections: profil, maturite, moyens, envies)")),
    ("nsp listed as an option", _nsp_listed,
     ("question 'size', option 'nsp': option id 'nsp' in field 'id' is reserved: "
     "« Je ne sais pas » is added automatically")),
    ("bad id", _set(goal_odd, "id", "Odd 17"),
     ("question 'goal', option 'Odd 17': field 'id' must be a lowercase identifier "
     "(a-z, 0-9, _), got 'Odd 17'")),
    ("unknown field", _unknown_field, "question 'theme': unknown field 'lable'"),
    ("tie-break order incomplete", _tie_break_incomplete,
     ("tie_break: field 'order' must list every door exactly once "
     "(territoire, innovation, salaries, odd)")),
    ("tie-break unknown question", _set(lambda d: d["tie_break"], "question", "but"),
     "tie_break: unknown question 'but' in field 'question'"),
    ("maturity rule unknown level", _set(lambda d: d["maturity_rule"], "level", "debutant"),
     "maturity_rule: unknown level 'debutant' in field 'level'"),
    ("maturity rule unknown door", _set(lambda d: d["maturity_rule"], "door", "xyz"),
     "maturity_rule: unknown door 'xyz' in field 'door'"),
    ("multi with unknown choice", _multi_unknown_choice,
     ("question 'partners': unknown option 'xyz' in field 'multi.choices' "
     "(options: aucun, associations, publics, entreprises, plusieurs)")),
    ("multi cap out of range", _set(lambda d: question_raw(d, "partners")["multi"], "max", 5),
     "question 'partners': field 'multi.max' must be between 0 and 3, got 5"),
    ("no questions", _no_questions,
     "field 'questions' must be a non-empty list, got list"),
]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in VALIDATION_CASES],
)
def test_broken_yaml_is_refused_with_file_entry_and_field(
    tmp_path: Path, mutation: Mutation, expected: str
) -> None:
    data = raw_data()
    mutation(data)
    path = tmp_path / "questionnaire.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_message_format_of_the_spec_example() -> None:
    data = raw_data()
    option_raw(data, "goal", "odd")["doors"] = {"xyz": 1}
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(data, "data/questionnaire.yml")
    assert str(caught.value).startswith(
        "data/questionnaire.yml: question 'goal', option 'odd': unknown door 'xyz'"
    )


def test_invalid_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("doors: [\n  - id: territoire\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert str(caught.value).startswith(f"{path}: invalid YAML:")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yml"
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert str(caught.value).startswith(f"{path}: cannot read file:")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert str(caught.value) == f"{path}: must be a mapping of fields, got list"


def test_from_dict_builds_the_same_questionnaire(q: Questionnaire) -> None:
    rebuilt = Questionnaire.from_dict(raw_data(), "database")
    assert rebuilt.source_name == "database"
    assert rebuilt.questions == q.questions
    assert rebuilt.doors == q.doors and rebuilt.levels == q.levels


def test_from_dict_extra_fields_only_when_allowed() -> None:
    data = raw_data()
    for position, question in enumerate(data["questions"], start=1):
        question["position"] = position  # e.g. a database column
    with pytest.raises(QuestionnaireError, match="question 'actor_type': unknown field 'position'"):
        Questionnaire.from_dict(copy.deepcopy(data), "database")
    built = Questionnaire.from_dict(data, "database", allow_extra_fields=True)
    assert built.total == 13


def test_questionnaire_is_immutable(q: Questionnaire) -> None:
    with pytest.raises(AttributeError):
        q.questions = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        q.option("goal", "odd").doors["odd"] = 9  # type: ignore[index]
