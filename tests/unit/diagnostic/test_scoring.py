"""Tests of bot.diagnostic.scoring against every rule of shared/design/questionnaire.md § Scoring."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from bot.diagnostic.questionnaire import DEFAULT_PATH, Questionnaire, load_questionnaire
from bot.diagnostic.scoring import (
    MAX_REASONS,
    DiagnosticResult,
    answer_points,
    compute_result,
    level_for,
    percent,
)

Answers = dict[str, Any]

# Option giving each score, per scored question (partners: a list for 2 points).
SCORE_OPTIONS: dict[str, list[Any]] = {
    "experience": ["aucun", "ponctuel", "habitude", "alliance"],
    "partners": ["aucun", "associations", ["associations", "publics"], "plusieurs"],
    "organisation": ["informel", "convention", "gouvernance", "vision"],
    "evaluation": ["non", "bilan", "indicateurs", "impact"],
    "resources": ["aucun", "temps", "referent", "equipe"],
    "support": ["non", "connait", "accompagne", "accompagnateur"],
}

NO_DOOR_POINTS = {"territoire": 0, "innovation": 0, "salaries": 0, "odd": 0}


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire()


def maturity(points: int) -> Answers:
    """Answers to the six scored questions worth exactly ``points`` (0–18)."""
    assert 0 <= points <= 18
    answers: Answers = {}
    left = points
    for qid, options in SCORE_OPTIONS.items():
        score = min(3, left)
        answers[qid] = options[score]
        left -= score
    return answers


def neutral(**overrides: Any) -> Answers:
    """A profile giving no door point, at level « habitude » (7/18): no maturity rule.

    ``goal``, ``partners_wanted`` and ``horizon`` are left unanswered unless given.
    """
    answers: Answers = {"actor_type": "autre", "size": "tpe", "scale": "region", "theme": "autre"}
    answers.update(maturity(7))
    answers.update(overrides)
    return answers


def modified(mutate: Any) -> Questionnaire:
    """The real questionnaire with one change, to reach branches the spec's numbers hide."""
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(data)
    return Questionnaire.from_dict(data, "test")


def _question(data: dict[str, Any], qid: str) -> dict[str, Any]:
    return next(x for x in data["questions"] if x["id"] == qid)


# ------------------------------------------------------------------ helpers work


def test_maturity_helper(q: Questionnaire) -> None:
    for points in range(19):
        assert compute_result(q, neutral(**maturity(points))).maturity_points == points


def test_neutral_profile_gives_no_door_points(q: Questionnaire) -> None:
    result = compute_result(q, neutral())
    assert result.scores == NO_DOOR_POINTS
    assert result.level == "habitude"


# ------------------------------------------------------------------ door points


@pytest.mark.parametrize(
    ("actor_type", "expected"),
    [
        ("entreprise", {"salaries": 1, "odd": 1}),
        ("collectivite", {"territoire": 2}),
        ("association", {"innovation": 1}),
        ("fondation", {"innovation": 1}),
        ("accompagnement", {"territoire": 1}),
        ("autre", {}),
    ],
)
def test_actor_type_priors(q: Questionnaire, actor_type: str, expected: dict[str, int]) -> None:
    result = compute_result(q, neutral(actor_type=actor_type))
    assert result.scores == {**NO_DOOR_POINTS, **expected}


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ("local", {"territoire": 1}),
        ("departement", {"territoire": 1}),
        ("region", {}),
        ("national", {"odd": 1}),
    ],
)
def test_scale_priors(q: Questionnaire, scale: str, expected: dict[str, int]) -> None:
    result = compute_result(q, neutral(scale=scale))
    assert result.scores == {**NO_DOOR_POINTS, **expected}


@pytest.mark.parametrize("size", ["benevole", "tpe", "pme", "grande"])
def test_size_and_theme_give_no_door_points(q: Questionnaire, size: str) -> None:
    assert compute_result(q, neutral(size=size, theme="sante")).scores == NO_DOOR_POINTS


@pytest.mark.parametrize(
    ("qid", "oid", "expected"),
    [
        ("goal", "territoire", {"territoire": 4}),
        ("goal", "innovation", {"innovation": 4}),
        ("goal", "salaries", {"salaries": 4}),
        ("goal", "odd", {"odd": 4}),
        ("partners_wanted", "associations", {"innovation": 1}),
        ("partners_wanted", "entreprises", {"salaries": 2}),
        ("partners_wanted", "publics", {"territoire": 2}),
        ("partners_wanted", "tous", {"territoire": 2, "innovation": 1}),
        ("horizon", "court", {"salaries": 1, "odd": 1}),
        ("horizon", "moyen", {"innovation": 1}),
        ("horizon", "long", {"territoire": 1, "odd": 1}),
    ],
)
def test_door_point_rows(q: Questionnaire, qid: str, oid: str, expected: dict[str, int]) -> None:
    result = compute_result(q, neutral(**{qid: oid}))
    assert result.scores == {**NO_DOOR_POINTS, **expected}


def test_door_points_add_up(q: Questionnaire) -> None:
    answers = neutral(
        actor_type="collectivite", scale="local", goal="territoire",
        partners_wanted="tous", horizon="long",
    )
    result = compute_result(q, answers)
    assert result.scores == {"territoire": 10, "innovation": 1, "salaries": 0, "odd": 1}


# ------------------------------------------------------------------ maturity rule


def test_maturity_rule_applies_at_decouverte(q: Questionnaire) -> None:
    result = compute_result(q, neutral(goal="innovation", **maturity(5)))
    assert result.level == "decouverte"
    assert result.scores == {"territoire": 0, "innovation": 3, "salaries": 0, "odd": 0}


def test_maturity_rule_can_go_below_zero(q: Questionnaire) -> None:
    result = compute_result(q, neutral(**maturity(0)))
    assert result.scores == {"territoire": 0, "innovation": -1, "salaries": 0, "odd": 0}
    assert result.door == "odd"


@pytest.mark.parametrize(("points", "level"), [(6, "habitude"), (10, "aguerri"), (15, "moteur")])
def test_maturity_rule_does_not_apply_above_decouverte(
    q: Questionnaire, points: int, level: str
) -> None:
    result = compute_result(q, neutral(goal="innovation", **maturity(points)))
    assert result.level == level
    assert result.scores["innovation"] == 4


# ------------------------------------------------------------------ tie-break


def test_goal_door_wins_when_tied(q: Questionnaire) -> None:
    # territoire 4 (goal) vs salaries 4: the fixed order alone would pick salaries.
    answers = neutral(
        goal="territoire", actor_type="entreprise", partners_wanted="entreprises", horizon="court"
    )
    result = compute_result(q, answers)
    assert result.scores == {"territoire": 4, "innovation": 0, "salaries": 4, "odd": 2}
    assert (result.door, result.runner_up) == ("territoire", "salaries")


def test_goal_door_wins_tie_against_first_in_order(q: Questionnaire) -> None:
    # innovation is last in the fixed order; as the goal door it still wins the tie.
    answers = neutral(goal="innovation", actor_type="entreprise", horizon="court",
                      partners_wanted="entreprises")
    result = compute_result(q, answers)
    assert result.scores == {"territoire": 0, "innovation": 4, "salaries": 4, "odd": 2}
    assert (result.door, result.runner_up) == ("innovation", "salaries")
    answers = neutral(goal="innovation", actor_type="entreprise", horizon="court",
                      scale="national", partners_wanted="entreprises")
    result = compute_result(q, {**answers, **maturity(0)})
    # salaries 4 wins alone; innovation (3 after the maturity rule) and odd (3) tie
    # for runner-up: the goal door wins it, although odd comes first in the order.
    assert result.scores == {"territoire": 0, "innovation": 3, "salaries": 4, "odd": 3}
    assert (result.door, result.runner_up) == ("salaries", "innovation")


def test_goal_not_among_tied_uses_fixed_order() -> None:
    # With the spec's numbers the goal door (+4) is always among the top doors,
    # so this branch is checked with a goal worth only one point.
    weak_goal = modified(
        lambda d: next(o for o in _question(d, "goal")["options"] if o["id"] == "odd").update(
            doors={"odd": 1}
        )
    )
    answers = neutral(goal="odd", actor_type="collectivite", partners_wanted="entreprises")
    result = compute_result(weak_goal, answers)
    assert result.scores == {"territoire": 2, "innovation": 0, "salaries": 2, "odd": 1}
    assert (result.door, result.runner_up) == ("salaries", "territoire")


def test_runner_up_ignores_goal_once_it_won(q: Questionnaire) -> None:
    # The goal door won; the remaining tie (odd, salaries, innovation at 1) follows the order.
    answers = neutral(goal="territoire", horizon="court", partners_wanted="associations")
    result = compute_result(q, answers)
    assert result.scores == {"territoire": 4, "innovation": 1, "salaries": 1, "odd": 1}
    assert (result.door, result.runner_up) == ("territoire", "odd")


@pytest.mark.parametrize("goal", [None, "nsp"])
def test_goal_unanswered_uses_fixed_order(q: Questionnaire, goal: str | None) -> None:
    answers = neutral(actor_type="collectivite", partners_wanted="entreprises")
    if goal is not None:
        answers["goal"] = goal
    result = compute_result(q, answers)
    assert result.scores == {"territoire": 2, "innovation": 0, "salaries": 2, "odd": 0}
    assert (result.door, result.runner_up) == ("salaries", "territoire")


def test_all_tied_follows_order(q: Questionnaire) -> None:
    result = compute_result(q, neutral())
    assert (result.door, result.runner_up) == ("odd", "salaries")


def test_order_between_territoire_and_innovation(q: Questionnaire) -> None:
    answers = neutral(actor_type="association", scale="local")
    result = compute_result(q, answers)
    assert result.scores == {"territoire": 1, "innovation": 1, "salaries": 0, "odd": 0}
    assert (result.door, result.runner_up) == ("territoire", "innovation")


def test_clear_winner_and_runner_up(q: Questionnaire) -> None:
    answers = neutral(goal="salaries", actor_type="entreprise", scale="national", horizon="long")
    result = compute_result(q, answers)
    assert result.scores == {"territoire": 1, "innovation": 0, "salaries": 5, "odd": 3}
    assert (result.door, result.runner_up) == ("salaries", "odd")


# ------------------------------------------------------------------ nsp and unanswered


def test_nsp_scores_lowest_and_is_unanswered(q: Questionnaire) -> None:
    answers = neutral(**maturity(18))
    answers["evaluation"] = "nsp"
    result = compute_result(q, answers)
    assert result.maturity_points == 15
    assert result.dimensions["evaluation"] == 0
    assert result.unanswered == ["evaluation", "goal", "partners_wanted", "horizon"]


def test_nsp_scores_the_lowest_score_even_when_not_zero() -> None:
    shifted = modified(
        lambda d: [o.update(score=max(1, o["score"])) for o in _question(d, "evaluation")["options"]]
    )
    assert shifted.question("evaluation").min_score == 1
    answers = neutral(**maturity(0))
    answers["evaluation"] = "nsp"
    result = compute_result(shifted, answers)
    assert result.maturity_points == 1
    assert "evaluation" in result.unanswered


def test_missing_answers_are_unanswered_in_question_order(q: Questionnaire) -> None:
    result = compute_result(q, {"goal": "odd", "size": "nsp", "partners": "nsp"})
    assert result.unanswered == [
        "actor_type", "size", "scale", "theme", "experience", "partners",
        "organisation", "evaluation", "resources", "support", "partners_wanted", "horizon",
    ]
    assert result.maturity_points == 0
    assert result.level == "decouverte"
    assert result.scores == {"territoire": 0, "innovation": -1, "salaries": 0, "odd": 4}
    assert result.door == "odd"


def test_nsp_on_goal_gives_no_door_points(q: Questionnaire) -> None:
    result = compute_result(q, neutral(goal="nsp"))
    assert result.scores == NO_DOOR_POINTS
    assert "goal" in result.unanswered


def test_empty_answers(q: Questionnaire) -> None:
    result = compute_result(q, {})
    assert result.unanswered == list(q.question_ids)
    assert (result.maturity, result.level, result.door, result.runner_up) == (0, "decouverte", "odd", "salaries")
    assert result.reasons == []


# ------------------------------------------------------------------ partners list


@pytest.mark.parametrize(
    ("value", "points"),
    [
        ("aucun", 0),
        ("associations", 1),
        ("publics", 1),
        ("entreprises", 1),
        ("plusieurs", 3),
        (["publics"], 1),
        (["publics", "entreprises"], 2),
        (["associations", "publics", "entreprises"], 3),
        (["publics", "publics"], 1),
        (["entreprises", "publics", "entreprises"], 2),
        ("nsp", 0),
    ],
)
def test_partners_scoring(q: Questionnaire, value: Any, points: int) -> None:
    answers = neutral(**maturity(0))
    answers["partners"] = value
    result = compute_result(q, answers)
    assert result.maturity_points == points
    assert answer_points(q.question("partners"), value) == points


def test_partners_list_is_capped() -> None:
    capped = modified(lambda d: _question(d, "partners")["multi"].update(max=2))
    answers = neutral(**maturity(0))
    answers["partners"] = ["associations", "publics", "entreprises"]
    assert compute_result(capped, answers).maturity_points == 2
    answers["partners"] = ["associations"]
    assert compute_result(capped, answers).maturity_points == 1


def test_partners_list_fills_the_experience_dimension(q: Questionnaire) -> None:
    answers = neutral(**maturity(0))
    answers.update(experience="habitude", partners=["publics", "entreprises"])
    result = compute_result(q, answers)
    assert result.dimensions["experience"] == 67  # (2 + 2) / 6
    assert result.maturity_points == 4


# ------------------------------------------------------------------ maturity and levels


@pytest.mark.parametrize(
    ("points", "level", "percentage"),
    [
        (0, "decouverte", 0),
        (5, "decouverte", 28),
        (6, "habitude", 33),
        (9, "habitude", 50),
        (10, "aguerri", 56),
        (14, "aguerri", 78),
        (15, "moteur", 83),
        (18, "moteur", 100),
    ],
)
def test_level_boundaries(q: Questionnaire, points: int, level: str, percentage: int) -> None:
    result = compute_result(q, neutral(**maturity(points)))
    assert (result.maturity_points, result.maturity_max) == (points, 18)
    assert result.maturity == percentage
    assert result.level == level


def test_level_is_decided_on_the_exact_fraction(q: Questionnaire) -> None:
    # 29.9 % displays as 30 but is still « découverte »; 30 % exactly is « habitude ».
    assert percent(299, 1000) == 30
    assert level_for(q, 299, 1000).id == "decouverte"
    assert level_for(q, 300, 1000).id == "habitude"
    assert level_for(q, 549, 1000).id == "habitude"
    assert level_for(q, 550, 1000).id == "aguerri"
    assert level_for(q, 799, 1000).id == "aguerri"
    assert level_for(q, 800, 1000).id == "moteur"


def test_percent_rounds_half_up() -> None:
    assert percent(1, 8) == 13  # 12.5
    assert percent(3, 8) == 38  # 37.5
    assert percent(1, 18) == 6
    assert percent(0, 0) == 0


# ------------------------------------------------------------------ dimensions


def test_dimensions_and_weakest(q: Questionnaire) -> None:
    answers = neutral(
        experience="habitude", partners=["publics"], organisation="gouvernance",
        evaluation="bilan", resources="equipe", support="accompagnateur",
    )
    result = compute_result(q, answers)
    assert result.dimensions == {"experience": 50, "organisation": 67, "evaluation": 33, "moyens": 100}
    assert result.weakest_dimension == "evaluation"


def test_weakest_dimension_ties_go_in_order(q: Questionnaire) -> None:
    # 2/6, 1/3, 1/3, 2/6: an exact tie everywhere → the first dimension.
    answers = neutral(
        experience="ponctuel", partners="associations", organisation="convention",
        evaluation="bilan", resources="temps", support="connait",
    )
    result = compute_result(q, answers)
    assert result.dimensions == {"experience": 33, "organisation": 33, "evaluation": 33, "moyens": 33}
    assert result.weakest_dimension == "experience"
    # Tie between organisation and moyens only.
    answers.update(experience="alliance", organisation="informel", evaluation="impact",
                   resources="aucun", support="non")
    result = compute_result(q, answers)
    assert result.dimensions == {"experience": 67, "organisation": 0, "evaluation": 100, "moyens": 0}
    assert result.weakest_dimension == "organisation"


def test_weakest_dimension_uses_exact_ratios(q: Questionnaire) -> None:
    # moyens 1/6 (17 %) is weaker than organisation 1/3 (33 %), although listed later.
    answers = neutral(
        experience="alliance", partners="plusieurs", organisation="convention",
        evaluation="impact", resources="temps", support="non",
    )
    result = compute_result(q, answers)
    assert result.dimensions == {"experience": 100, "organisation": 33, "evaluation": 100, "moyens": 17}
    assert result.weakest_dimension == "moyens"


# ------------------------------------------------------------------ reasons


def test_reasons_largest_first_ties_in_question_order(q: Questionnaire) -> None:
    answers = neutral(
        actor_type="collectivite", scale="local", goal="territoire",
        partners_wanted="tous", horizon="long",
    )
    result = compute_result(q, answers)
    assert result.door == "territoire"
    # goal 4, then actor_type 2 and partners_wanted 2 (question order); scale and
    # horizon (1 each) are left out: three reasons at most.
    assert result.reasons == [
        "vous souhaitez répondre aux besoins de votre territoire",
        "vous êtes une collectivité ou un acteur public",
        "vous souhaitez réunir tous les acteurs de votre territoire",
    ]
    assert MAX_REASONS == 3


def test_reasons_equal_points_keep_question_order(q: Questionnaire) -> None:
    answers = neutral(goal="territoire", scale="departement", horizon="long")
    result = compute_result(q, answers)
    assert result.reasons == [
        "vous souhaitez répondre aux besoins de votre territoire",
        "vous agissez à l'échelle d'une intercommunalité ou d'un département",
        "vous visez une transformation durable, sur plusieurs années",
    ]


def test_reasons_only_for_the_winning_door(q: Questionnaire) -> None:
    answers = neutral(goal="salaries", actor_type="entreprise", partners_wanted="publics", horizon="moyen")
    result = compute_result(q, answers)
    assert result.door == "salaries"
    assert result.reasons == [
        "vous souhaitez mobiliser des salariés au service de l'intérêt général",
        "vous êtes une entreprise",
    ]


def test_single_reason_when_one_answer_contributed(q: Questionnaire) -> None:
    result = compute_result(q, neutral(goal="odd"))
    assert result.reasons == ["vous cherchez un cap commun avec les objectifs de développement durable"]


def test_no_reason_when_nothing_contributed(q: Questionnaire) -> None:
    assert compute_result(q, neutral()).reasons == []


# ------------------------------------------------------------------ result object


def test_full_result_and_to_dict(q: Questionnaire) -> None:
    answers: Answers = {
        "actor_type": "association", "size": "benevole", "scale": "local", "theme": "lien_social",
        "experience": "ponctuel", "partners": ["associations", "publics"], "organisation": "informel",
        "evaluation": "nsp", "resources": "temps", "support": "connait",
        "goal": "innovation", "partners_wanted": "tous", "horizon": "moyen",
        "not_a_question": "ignored",
    }
    result = compute_result(q, answers)
    expected = DiagnosticResult(
        door="innovation",
        runner_up="territoire",
        scores={"territoire": 3, "innovation": 6, "salaries": 0, "odd": 0},
        maturity=28,
        maturity_points=5,
        maturity_max=18,
        level="decouverte",
        dimensions={"experience": 50, "organisation": 0, "evaluation": 0, "moyens": 33},
        weakest_dimension="organisation",
        reasons=[
            "vous voulez inventer une solution qu'aucun acteur ne pourrait créer seul",
            "vous êtes une association",
            "vous souhaitez réunir tous les acteurs de votre territoire",
        ],
        unanswered=["evaluation"],
    )
    assert result == expected
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict == {
        "door": "innovation",
        "runner_up": "territoire",
        "scores": {"territoire": 3, "innovation": 6, "salaries": 0, "odd": 0},
        "maturity": 28,
        "maturity_points": 5,
        "maturity_max": 18,
        "level": "decouverte",
        "dimensions": {"experience": 50, "organisation": 0, "evaluation": 0, "moyens": 33},
        "weakest_dimension": "organisation",
        "reasons": [
            "vous voulez inventer une solution qu'aucun acteur ne pourrait créer seul",
            "vous êtes une association",
            "vous souhaitez réunir tous les acteurs de votre territoire",
        ],
        "unanswered": ["evaluation"],
    }


@pytest.mark.parametrize(
    ("qid", "value"),
    [("goal", "xyz"), ("partners", ["plusieurs"]), ("actor_type", ["association"]), ("size", 3)],
)
def test_invalid_answer_raises(q: Questionnaire, qid: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"invalid answer to question '{qid}'"):
        compute_result(q, neutral(**{qid: value}))
