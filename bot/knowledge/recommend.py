"""Recommending tools and examples for a finished diagnostic.

Entries are ranked by the recommended door first, then the maturity level, the
actor type, the theme and the scale (each a yes/no match, compared in that
order), the file order breaking ties. Each recommendation carries a one-line
reason naming what matched. Paging (« d'autres outils ») takes the next ones of
the same ranking, so nothing is shown twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.diagnostic.questionnaire import NSP, Questionnaire
from bot.knowledge.model import Entry

CRITERIA = ("doors", "levels", "actor_types", "themes", "scale")


@dataclass(frozen=True)
class Profile:
    """What the ranking looks at: the result's door and level, three profile answers."""

    door: str
    level: str
    actor_type: str | None = None
    theme: str | None = None
    scale: str | None = None

    @classmethod
    def from_result(cls, result: Mapping[str, Any], answers: Mapping[str, Any]) -> Profile:
        def answer(question_id: str) -> str | None:
            value = answers.get(question_id)
            return value if isinstance(value, str) and value != NSP else None

        return cls(result["door"], result["level"], answer("actor_type"), answer("theme"), answer("scale"))

    def wanted(self) -> dict[str, str | None]:
        return {"doors": self.door, "levels": self.level, "actor_types": self.actor_type,
                "themes": self.theme, "scale": self.scale}  # fmt: skip


@dataclass(frozen=True)
class Recommendation:
    entry: Entry
    matched: tuple[str, ...]
    reason: str


def _reason(questionnaire: Questionnaire, profile: Profile, matched: Sequence[str]) -> str:
    parts: list[str] = []
    if "doors" in matched:
        parts.append(f"porte « {questionnaire.door(profile.door).label} »")
    if "levels" in matched:
        parts.append(f"niveau {questionnaire.level(profile.level).label}")
    for criterion, question_id, value in (
        ("actor_types", "actor_type", profile.actor_type),
        ("themes", "theme", profile.theme),
        ("scale", "scale", profile.scale),
    ):
        if criterion in matched and value:
            parts.append(questionnaire.question(question_id).option(value).summary)
    if not parts:
        return "Une ressource générale, utile quel que soit votre profil."
    return "Choisi pour : " + ", ".join(parts) + "."


def rank(questionnaire: Questionnaire, entries: Sequence[Entry], profile: Profile) -> list[Recommendation]:
    """Every entry, best first, each with the criteria it matched and its reason."""
    wanted = profile.wanted()
    scored = []
    for position, entry in enumerate(entries):
        matched = tuple(c for c in CRITERIA if wanted[c] is not None and entry.tagged(c, wanted[c] or ""))
        key = tuple(criterion in matched for criterion in CRITERIA)
        scored.append((key, -position, entry, matched))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [Recommendation(entry, matched, _reason(questionnaire, profile, matched)) for _, _, entry, matched in scored]


def page(recommendations: Sequence[Recommendation], offset: int, size: int) -> list[Recommendation]:
    """The ``size`` recommendations after the first ``offset`` (empty when all were shown)."""
    return list(recommendations[max(offset, 0): max(offset, 0) + size])
