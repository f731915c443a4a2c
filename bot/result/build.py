"""A finished questionnaire turned into a complete result, and its JSON.

:func:`build_result` scores the answers (:mod:`bot.diagnostic.scoring`), ranks the tools and the
examples for this user (:mod:`bot.knowledge.recommend`) with their own words matched by meaning
(``related``: the search index's closeness of every entry to a text), and draws the action plan
(:mod:`bot.knowledge.plan`). The same JSON is stored with the diagnostic and served by the API and the
report page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.diagnostic.questionnaire import Questionnaire
from bot.diagnostic.scoring import DiagnosticResult, compute_result
from bot.knowledge.model import Catalogue, Entry
from bot.knowledge.plan import ActionPlan, action_plan
from bot.knowledge.profile import UserProfile
from bot.knowledge.reasons import THEME_PHRASE, Labels
from bot.knowledge.recommend import EXAMPLES_SHOWN, TOOLS_SHOWN, Picks, Recommendation, recommend
from bot.result.progress import Progress, progress_since

# (kind of entry, text) -> closeness of every entry of that kind to the text, by meaning
Related = Callable[[str, str], Mapping[str, float]]


def no_relatedness(_kind: str, _text: str) -> Mapping[str, float]:
    return {}


@dataclass(frozen=True)
class FullResult:
    """Everything the result shows."""

    result: DiagnosticResult
    profile: UserProfile
    picks: Picks
    plan: ActionPlan
    progress: Progress | None = None

    @property
    def tools(self) -> list[Recommendation]:
        return self.picks.tools[:TOOLS_SHOWN]

    @property
    def examples(self) -> list[Recommendation]:
        return self.picks.examples[:EXAMPLES_SHOWN]

    def to_json(self) -> dict[str, Any]:
        """The result as stored and served: the scores, then the recommendations with their reasons."""
        data = self.result.to_dict()
        data["tools"] = [recommendation_json(item) for item in self.tools]
        data["examples"] = [recommendation_json(item) for item in self.examples]
        data["steps"] = [
            {"id": item.step.id, "title": item.step.title, "text": item.step.text, "source": str(item.step.source),
             "tool": entry_json(item.tool) if item.tool else None}
            for item in self.plan.steps
        ]
        data["support"] = [entry_json(entry) for entry in self.plan.support]
        data["previous"] = self.progress.to_json() if self.progress else None
        return data


def entry_json(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, "name": entry.title, "description": entry.get("summary") or entry.text,
            "url": entry.get("url"), "source": str(entry.source)}


def recommendation_json(item: Recommendation) -> dict[str, Any]:
    return {**entry_json(item.entry), "reason": item.reason}


def query_of(profile: UserProfile) -> str:
    """What the entries are matched against by meaning: the user's own words, then their issue."""
    theme = THEME_PHRASE.get(profile.theme or "", "")
    return " ".join([*profile.words, theme]).strip()


def user_profile(survey: Questionnaire, result: DiagnosticResult, answers: Mapping[str, Any],
                 typed: Mapping[str, str] | None) -> UserProfile:
    return UserProfile.from_result(result.to_dict(), answers, typed,
                                   tuple(dimension.id for dimension in survey.dimensions))


def rank_for(catalogue: Catalogue, profile: UserProfile, labels: Labels, related: Related = no_relatedness) -> Picks:
    """The whole ranked tools and examples of ``profile`` (the result shows their heads)."""
    query = query_of(profile)
    return recommend(catalogue, profile, labels, related("tool", query) if query else {},
                     related("example", query) if query else {})


def build_result(survey: Questionnaire, catalogue: Catalogue, answers: Mapping[str, Any],
                 typed: Mapping[str, str] | None = None, related: Related = no_relatedness,
                 previous: Mapping[str, Any] | None = None) -> FullResult:
    """The whole result of ``answers`` (``typed``: the free-text answers by question id; ``previous``: the
    stored result of the user's previous diagnostic, if any)."""
    result = compute_result(survey, answers)
    profile = user_profile(survey, result, answers, typed)
    picks = rank_for(catalogue, profile, Labels.from_questionnaire(survey), related)
    plan = action_plan(catalogue, profile, [item.entry.id for item in picks.tools])
    return FullResult(result, profile, picks, plan, progress_since(survey, previous, result) if previous else None)
