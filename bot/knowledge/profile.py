"""What the recommendation knows about a user: their result, three profile answers and their own words.

Built from a finished diagnostic (:meth:`UserProfile.from_result`): the recommended door and
the runner-up, the level, the dimensions from weakest to strongest, the actor type, size,
scale, theme and wished partners, and the free-text answers the user typed (« on lutte contre
l'isolement des personnes âgées »), which are matched by meaning against each entry.
It is stored as plain JSON in the conversation (« d'autres outils » pages through the same
ranking), so every field is a string, a list of strings or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

NSP = "nsp"


def _answer(answers: Mapping[str, Any], question_id: str) -> str | None:
    value = answers.get(question_id)
    return value if isinstance(value, str) and value != NSP else None


@dataclass(frozen=True)
class UserProfile:
    """The facts of a diagnostic that the ranking, the reasons and the action plan use."""

    door: str
    level: str
    runner_up: str | None = None
    #: dimension ids from the weakest to the strongest (ties in questionnaire order)
    dimensions_by_need: tuple[str, ...] = ()
    dimension_percent: Mapping[str, int] = field(default_factory=dict)
    actor_type: str | None = None
    size: str | None = None
    scale: str | None = None
    theme: str | None = None
    partners_wanted: str | None = None
    #: the free-text answers the user typed, in questionnaire order
    words: tuple[str, ...] = ()

    @property
    def weakest_dimension(self) -> str | None:
        return self.dimensions_by_need[0] if self.dimensions_by_need else None

    @classmethod
    def from_result(cls, result: Mapping[str, Any], answers: Mapping[str, Any],
                    typed: Mapping[str, str] | None = None, dimension_order: tuple[str, ...] = ()) -> UserProfile:
        """``result`` as :meth:`DiagnosticResult.to_dict` gives it, ``answers`` by question id, ``typed`` the
        free-text answers by question id; ``dimension_order`` breaks ties between equal dimensions."""
        percent = {key: int(value) for key, value in (result.get("dimensions") or {}).items()}
        order = dimension_order or tuple(percent)
        weakest = result.get("weakest_dimension")
        by_need = sorted(percent, key=lambda key: (percent[key], key != weakest, order.index(key) if key in order else 99))
        return cls(
            door=result["door"], level=result["level"], runner_up=result.get("runner_up"),
            dimensions_by_need=tuple(by_need), dimension_percent=percent,
            actor_type=_answer(answers, "actor_type"), size=_answer(answers, "size"), scale=_answer(answers, "scale"),
            theme=_answer(answers, "theme"), partners_wanted=_answer(answers, "partners_wanted"),
            words=tuple(text for text in (typed or {}).values() if isinstance(text, str) and text.strip()),
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["dimensions_by_need"] = list(self.dimensions_by_need)
        data["dimension_percent"] = dict(self.dimension_percent)
        data["words"] = list(self.words)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UserProfile:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["dimensions_by_need"] = tuple(known.get("dimensions_by_need") or ())
        known["dimension_percent"] = dict(known.get("dimension_percent") or {})
        known["words"] = tuple(known.get("words") or ())
        return cls(**known)
