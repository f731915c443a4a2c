"""Recommendation: a relevance score over several criteria, then diversity; reasons; paging without repeats."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnostic.questionnaire import Questionnaire, load_questionnaire
from bot.knowledge.model import Catalogue, Entry, Source, load_catalogue
from bot.knowledge.profile import UserProfile
from bot.knowledge.reasons import Labels, shared_word
from bot.knowledge.recommend import page, rank, recommend, resemblance
from bot.knowledge.relevance import EXAMPLE_WEIGHTS, TOOL_WEIGHTS, assess, specificity

SOURCE = Source("004_ae020736358247a1.txt", 1, 2)
PROFILE = UserProfile(door="territoire", level="habitude", runner_up="odd",
                      dimensions_by_need=("evaluation", "organisation", "moyens", "experience"),
                      dimension_percent={"evaluation": 0, "organisation": 33, "moyens": 50, "experience": 67},
                      actor_type="association", size="benevole", scale="local", theme="sante", partners_wanted="tous",
                      words=("on accompagne les personnes âgées isolées du quartier",))


@pytest.fixture(scope="module")
def survey() -> Questionnaire:
    return load_questionnaire()


@pytest.fixture(scope="module")
def catalogue(survey: Questionnaire) -> Catalogue:
    return load_catalogue(survey)


@pytest.fixture(scope="module")
def labels(survey: Questionnaire) -> Labels:
    return Labels.from_questionnaire(survey)


def tool(entry_id: str, kind: str = "guide", **tags: Any) -> Entry:
    fields = {"kind": kind, **{key: value for key, value in tags.items() if key in ("role", "publisher", "members")}}
    tag_values = {key: tuple(value) for key, value in tags.items() if key not in fields}
    return Entry("tool", entry_id, entry_id.replace("_", " "), "un texte", SOURCE, tag_values, fields)


def example(entry_id: str, **tags: Any) -> Entry:
    members = tags.pop("members", [])
    return Entry("example", entry_id, entry_id.replace("_", " "), "un texte", SOURCE,
                 {key: tuple(value) for key, value in tags.items()}, {"members": members})


def score_of(entry: Entry, profile: UserProfile = PROFILE) -> float:
    weights = TOOL_WEIGHTS if entry.kind == "tool" else EXAMPLE_WEIGHTS
    return assess([entry], profile, {}, weights)[0].score


def test_the_door_weighs_and_a_door_made_for_one_counts_more_than_one_for_all() -> None:
    assert score_of(tool("a", doors=["territoire"])) > score_of(tool("b", doors=["territoire", "innovation", "salaries",
                                                                              "odd"])) > score_of(tool("c", doors=["odd"]))
    assert score_of(tool("c", doors=["odd"])) > score_of(tool("d", doors=["innovation"]))  # the runner-up counts a little


def test_a_nearby_level_counts_less_than_the_same_level_and_more_than_a_far_one() -> None:
    same, near, far = (score_of(tool(name, doors=["territoire"], levels=[level]))
                       for name, level in (("same", "habitude"), ("near", "aguerri"), ("far", "moteur")))
    assert same > near > far


def test_a_tool_for_the_weakest_dimension_comes_before_one_for_a_strong_dimension() -> None:
    assert (score_of(tool("weak", doors=["territoire"], dimensions=["evaluation"]))
            > score_of(tool("next", doors=["territoire"], dimensions=["organisation"]))
            > score_of(tool("strong", doors=["territoire"], dimensions=["experience"])))


def scores_of(*entries: Entry) -> list[float]:
    """The scores of entries assessed together (a criterion no entry carries is left neutral)."""
    return [item.score for item in assess(list(entries), PROFILE, {}, EXAMPLE_WEIGHTS)]


def test_an_example_about_another_issue_weighs_less_than_a_general_one_and_one_about_the_users() -> None:
    mine, general, other = scores_of(example("mine", doors=["territoire"], themes=["sante"]),
                                     example("general", doors=["territoire"]),
                                     example("other", doors=["territoire"], themes=["logement"]))
    assert mine > general > other


def test_a_criterion_that_no_entry_carries_is_left_neutral() -> None:
    """No entry is tagged with the user's issue: the theme tags cannot tell the entries apart."""
    general, other = scores_of(example("general", doors=["territoire"]),
                               example("other", doors=["territoire"], themes=["logement"]))
    assert general == other


def test_the_users_words_lift_the_entries_closest_in_meaning(labels: Labels) -> None:
    entries = [tool("far", doors=["territoire"]), tool("close", doors=["territoire"])]
    ranked = rank(entries, PROFILE, labels, related={"far": 0.1, "close": 0.8})
    assert [item.entry.id for item in ranked] == ["close", "far"]


def test_specificity_goes_from_one_to_the_least_specific() -> None:
    assert specificity(1, 4) == 1.0 and specificity(4, 4) == pytest.approx(0.6)
    assert specificity(1, 4) > specificity(2, 4) > specificity(3, 4) > specificity(4, 4)


def test_references_are_never_recommended(labels: Labels) -> None:
    entries = [tool("reference", doors=["territoire"], role="reference"), tool("usable", doors=["odd"])]
    assert [item.entry.id for item in rank(entries, PROFILE, labels)] == ["usable"]


def test_near_duplicates_and_the_same_kind_are_pushed_down(labels: Labels) -> None:
    entries = [tool("carnet de recherche un", doors=["territoire"], dimensions=["evaluation"]),
               tool("carnet de recherche deux", doors=["territoire"], dimensions=["evaluation"]),
               tool("une methode", kind="method", doors=["territoire"], dimensions=["organisation"])]
    ranked = [item.entry.id for item in rank(entries, PROFILE, labels)]
    assert ranked == ["carnet de recherche un", "une methode", "carnet de recherche deux"]
    alike = example("a", members=["Siel Bleu", "Unis-Cité"])
    assert resemblance_of(alike, example("b", members=["Siel Bleu", "Unis-Cité", "autre"])) >= 4.0


def resemblance_of(first: Entry, second: Entry) -> float:
    from bot.knowledge.recommend import _Likeness

    return resemblance(_Likeness.of(first), _Likeness.of(second))


def test_paging_never_repeats(labels: Labels, catalogue: Catalogue) -> None:
    ranked = rank(catalogue.of("example"), PROFILE, labels)
    seen = [item.entry.id for offset in range(0, len(ranked) + 3, 3) for item in page(ranked, offset, 3)]
    assert seen == [item.entry.id for item in ranked] and len(set(seen)) == len(seen)


@pytest.mark.parametrize("door", ["territoire", "innovation", "salaries", "odd"])
def test_the_real_catalogue_gives_distinct_tools_and_examples_with_reasons_of_their_own(
        door: str, labels: Labels, catalogue: Catalogue) -> None:
    profile = UserProfile(**{**PROFILE.to_json(), "door": door, "dimensions_by_need": PROFILE.dimensions_by_need})
    picks = recommend(catalogue, profile, labels)
    shown = picks.tools[:3] + picks.examples[:2]
    assert len({item.entry.id for item in shown}) == len({item.entry.title for item in shown}) == 5
    assert all(item.entry.recommendable for item in shown)
    assert len({item.reason for item in shown}) == 5
    assert all(item.entry.tagged("doors", door) for item in picks.tools[:3])


def test_a_reason_names_the_items_own_facts_and_the_users_answer(labels: Labels) -> None:
    alliance = Entry("example", "x", "X", "Une alliance pour les aînés isolés du quartier.", SOURCE,
                     {"doors": ("territoire",), "themes": ("sante",)}, {"members": ["Siel Bleu", "Unis-Cité"],
                                                                       "territory": "Lille"})
    reason = rank([alliance, example("y", doors=["odd"])], PROFILE, labels, related={"x": 0.9, "y": 0.1})[0].reason
    assert reason.startswith("Elle réunit Siel Bleu et Unis-Cité (Lille)")
    assert "la santé et le bien vieillir" in reason or "isolées" in reason


def test_a_word_quoted_back_is_a_word_of_substance() -> None:
    assert shared_word(("on lutte contre l'isolement",), "contre l'isolement des aînés") == "isolement"
    assert shared_word(("on lutte contre la faim",), "contre vents et marées") is None
