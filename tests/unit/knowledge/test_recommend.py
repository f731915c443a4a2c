"""Recommendation ranking: door first, then level, actor type, theme, scale; reasons; paging without repeats."""

from __future__ import annotations

import pytest

from bot.diagnostic.questionnaire import Questionnaire, load_questionnaire
from bot.knowledge.model import Catalogue, Entry, Source, load_catalogue
from bot.knowledge.recommend import Profile, page, rank


@pytest.fixture(scope="module")
def survey() -> Questionnaire:
    return load_questionnaire()


@pytest.fixture(scope="module")
def catalogue(survey: Questionnaire) -> Catalogue:
    return load_catalogue(survey)


def entry(entry_id: str, **tags: list[str]) -> Entry:
    return Entry("tool", entry_id, entry_id, "texte", Source("004_ae020736358247a1.txt", 1, 2),
                 {name: tuple(values) for name, values in tags.items()})


def test_door_outranks_every_other_criterion(survey: Questionnaire) -> None:
    profile = Profile("territoire", "habitude", "association", "sante", "local")
    everything_but_door = entry("a", doors=["odd"], levels=["habitude"], actor_types=["association"],
                                themes=["sante"], scale=["local"])
    door_only = entry("b", doors=["territoire"])
    assert [item.entry.id for item in rank(survey, [everything_but_door, door_only], profile)] == ["b", "a"]


def test_then_level_then_actor_then_theme_then_scale(survey: Questionnaire) -> None:
    profile = Profile("territoire", "habitude", "association", "sante", "local")
    entries = [
        entry("scale", doors=["territoire"], scale=["local"]),
        entry("theme", doors=["territoire"], themes=["sante"], scale=["local"]),
        entry("actor", doors=["territoire"], actor_types=["association"]),
        entry("level", doors=["territoire"], levels=["habitude"]),
    ]
    assert [item.entry.id for item in rank(survey, entries, profile)] == ["level", "actor", "theme", "scale"]


def test_reason_names_what_matched(survey: Questionnaire) -> None:
    profile = Profile("territoire", "habitude", "association", None, None)
    reason = rank(survey, [entry("x", doors=["territoire"], levels=["habitude"])], profile)[0].reason
    assert survey.door("territoire").label in reason and "Habitude" in reason
    assert survey.question("actor_type").option("association").summary not in reason


def test_paging_never_repeats(survey: Questionnaire, catalogue: Catalogue) -> None:
    ranked = rank(survey, catalogue.of("example"), Profile("odd", "decouverte", "entreprise", "emploi", "national"))
    seen = [item.entry.id for offset in range(0, len(ranked) + 3, 3) for item in page(ranked, offset, 3)]
    assert seen == [item.entry.id for item in ranked] and len(set(seen)) == len(seen)


@pytest.mark.parametrize("door", ["territoire", "innovation", "salaries", "odd"])
def test_real_catalogue_gives_three_tools_and_two_examples_of_the_door(
    survey: Questionnaire, catalogue: Catalogue, door: str
) -> None:
    profile = Profile(door, "habitude", "association", "emploi", "local")
    tools = rank(survey, catalogue.of("tool"), profile)[:3]
    examples = rank(survey, catalogue.of("example"), profile)[:2]
    assert all(item.entry.tagged("doors", door) for item in tools + examples)
