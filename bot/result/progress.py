"""What changed since the previous diagnostic: the level and each dimension, then and now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.diagnostic.questionnaire import Questionnaire
from bot.diagnostic.scoring import DiagnosticResult


@dataclass(frozen=True)
class Change:
    """One figure then and now (a level id, or a percentage)."""

    id: str
    label: str
    before: Any
    after: Any

    @property
    def difference(self) -> int | None:
        if isinstance(self.before, int) and isinstance(self.after, int):
            return self.after - self.before
        return None


@dataclass(frozen=True)
class Progress:
    """The previous result against this one."""

    previous_date: str | None
    level: Change
    maturity: Change
    dimensions: list[Change]

    def to_json(self) -> dict[str, Any]:
        return {
            "completed_at": self.previous_date,
            "level": {"before": self.level.before, "after": self.level.after},
            "maturity": {"before": self.maturity.before, "after": self.maturity.after},
            "dimensions": {change.id: {"before": change.before, "after": change.after} for change in self.dimensions},
        }


def _percent(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def progress_since(survey: Questionnaire, previous: Mapping[str, Any], now: DiagnosticResult) -> Progress | None:
    """The change from ``previous`` (a stored result, with its ``completed_at``) to ``now``; None if it has no level."""
    before_level = previous.get("level")
    if not isinstance(before_level, str):
        return None
    dimensions = previous.get("dimensions") if isinstance(previous.get("dimensions"), Mapping) else {}
    return Progress(
        previous_date=previous.get("completed_at") if isinstance(previous.get("completed_at"), str) else None,
        level=Change("level", "Niveau", before_level, now.level),
        maturity=Change("maturity", "Maturité", _percent(previous.get("maturity")), now.maturity),
        dimensions=[Change(dimension.id, dimension.label, _percent(dimensions.get(dimension.id)),
                           now.dimensions.get(dimension.id)) for dimension in survey.dimensions],
    )
