"""The recommendation measured on two blind relevance sets: graded gain of the tools and examples shown.

``tests/knowledge/relevance_set.yml`` and ``relevance_heldout.yml``: 16 profiles each (answers and the words
typed), each tool and example graded 2 (among the most useful), 1 (reasonable) or 0 by judges who never saw
the ranking code; four judges in all, two per set. The second set was written on 2026-12-04, after the
ranking was tuned, and measured once with it. For one
profile, the graded gain of the k items shown is the sum of their grades over the sum of the k best
grades the base allows (so 100 when the shown items are as good as the best possible choice); the figure
is the mean over the profiles. The search index gives the words their meaning, as in the running
assistant. Every figure is written to tests/output/recommendation_<set>.json.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.diagnostic.questionnaire import Questionnaire, load_questionnaire
from bot.knowledge.model import Catalogue, load_catalogue
from bot.knowledge.recommend import EXAMPLES_SHOWN, TOOLS_SHOWN
from bot.knowledge.search import SearchIndex
from bot.result.build import FullResult, build_result

ROOT = Path(__file__).resolve().parents[3]
SETS = ROOT / "tests" / "knowledge"
REPORTS = ROOT / "tests" / "output"
# The target of issue 13 is 85/100 for both. Measured (docs/knowledge.md): relevance_set.yml tools 81.2, examples
# 76.6 (2026-12-03); relevance_heldout.yml tools 80.2, examples 65.6 (2026-12-04, its first and only run before
# it was committed). The gates hold what is reached, so that the ranking cannot get worse unnoticed.
TARGET_GAIN = 85.0
REQUIRED_GAIN = {"relevance_set.yml": {"tools": 80.0, "examples": 75.0},
                 "relevance_heldout.yml": {"tools": 80.0, "examples": 65.0}}
MAX_SHARE_OF_ONE_TOOL = 1 / 3


@pytest.fixture(scope="module")
def survey() -> Questionnaire:
    return load_questionnaire()


@pytest.fixture(scope="module")
def catalogue(survey: Questionnaire) -> Catalogue:
    return load_catalogue(survey)


@pytest.fixture(scope="module", params=list(REQUIRED_GAIN))
def set_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def profiles(set_name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((SETS / set_name).read_text(encoding="utf-8"))["profiles"]


@pytest.fixture(scope="module")
def results(survey: Questionnaire, catalogue: Catalogue, profiles: list[dict[str, Any]]) -> dict[str, FullResult]:
    indexes = {kind: SearchIndex(catalogue.of(kind)) for kind in ("tool", "example")}

    def related(kind: str, text: str) -> dict[str, float]:
        return indexes[kind].relatedness(text)

    return {profile["id"]: build_result(survey, catalogue, profile["answers"], profile.get("typed"), related)
            for profile in profiles}


def graded_gain(shown: list[str], grades: dict[str, int], candidates: list[str]) -> float:
    best = sorted((grades.get(entry_id, 0) for entry_id in candidates), reverse=True)[: len(shown)]
    ideal = sum(best)
    return 100.0 * sum(grades.get(entry_id, 0) for entry_id in shown) / ideal if ideal else 100.0


def test_the_set_is_blind_and_large_enough(profiles: list[dict[str, Any]], catalogue: Catalogue) -> None:
    assert len(profiles) >= 12
    recommendable = {entry.id for kind in ("tool", "example") for entry in catalogue.of(kind) if entry.recommendable}
    for profile in profiles:
        assert profile["typed"], profile["id"]
        assert set(profile["tools"]) | set(profile["examples"]) <= recommendable, profile["id"]


def test_graded_gain_of_tools_and_examples(results: dict[str, FullResult], profiles: list[dict[str, Any]],
                                           catalogue: Catalogue, set_name: str) -> None:
    per_profile = {}
    for profile in profiles:
        result = results[profile["id"]]
        figures = {}
        for key, shown, kind in (("tools", result.tools, "tool"), ("examples", result.examples, "example")):
            candidates = [entry.id for entry in catalogue.of(kind) if entry.recommendable]
            figures[key] = round(graded_gain([item.entry.id for item in shown], profile[key], candidates), 1)
        per_profile[profile["id"]] = figures
    means = {key: round(sum(figures[key] for figures in per_profile.values()) / len(per_profile), 1)
             for key in ("tools", "examples")}
    report = REPORTS / f"recommendation_{set_name.removesuffix('.yml')}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"mean_graded_gain": means, "profiles": per_profile}, indent=2), encoding="utf-8")
    required = REQUIRED_GAIN[set_name]
    print(f"recommendation graded gain on {set_name} ({len(profiles)} blind profiles): tools {means['tools']}/100, "
          f"examples {means['examples']}/100 (gate {required['tools']:.0f} and {required['examples']:.0f}, "
          f"target {TARGET_GAIN:.0f}); {report}")
    assert means["tools"] >= required["tools"] and means["examples"] >= required["examples"]


def test_no_tool_dominates_the_results(results: dict[str, FullResult]) -> None:
    counts = Counter(item.entry.id for result in results.values() for item in result.tools)
    assert max(counts.values()) <= MAX_SHARE_OF_ONE_TOOL * len(results), counts.most_common(3)


def test_a_result_never_repeats_an_item_nor_shows_a_reference(results: dict[str, FullResult]) -> None:
    for result in results.values():
        shown = [item.entry for item in result.tools + result.examples]
        assert len(shown) == TOOLS_SHOWN + EXAMPLES_SHOWN
        assert len({entry.id for entry in shown}) == len({entry.title for entry in shown}) == len(shown)
        assert all(entry.recommendable for entry in shown)


def test_two_profiles_never_get_the_same_result_but_for_the_door(results: dict[str, FullResult]) -> None:
    seen: dict[tuple[str, ...], str] = {}
    for profile_id, result in results.items():
        key = tuple(item.entry.id for item in result.tools + result.examples)
        assert key not in seen, f"{profile_id} and {seen.get(key)} got the same tools and examples"
        seen[key] = profile_id


def test_every_item_of_a_result_has_a_reason_of_its_own(results: dict[str, FullResult]) -> None:
    for result in results.values():
        reasons = [item.reason for item in result.tools + result.examples]
        assert len(set(reasons)) == len(reasons)
        assert all(len(reason) <= 300 for reason in reasons)
