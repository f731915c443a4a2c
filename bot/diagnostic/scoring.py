"""Turn the answers to the questionnaire into a diagnostic result.

Plain Python (no Rasa import), shared by the actions, the web app and the tests.
The rules are those of ``shared/design/questionnaire.md`` (§ Scoring); the
numbers (door points, scores, levels, tie-break order) all come from the data
(:mod:`bot.diagnostic.questionnaire`), never from this module:

* door scores = door points of the answers (``goal``, ``partners_wanted``,
  ``horizon`` and the profile priors on ``actor_type`` and ``scale``), plus the
  maturity rule (level ``decouverte`` → innovation −1);
* the recommended door is the highest score; ties go to the door chosen in the
  tie-break question (``goal``) when it is among the tied doors, else to the
  fixed order (odd, salaries, territoire, innovation); the runner-up is the best
  of the remaining doors under the same rule;
* maturity = points of the scored questions / their maximum (18). ``nsp`` and
  missing answers score the lowest score of their question and are listed as
  unanswered; a list answer (``partners``) scores one point per distinct type,
  capped (3);
* the level is decided on the **exact fraction** of points, not on the rounded
  percentage: below 30 % is ``decouverte``, below 55 % ``habitude``, below 80 %
  ``aguerri``, else ``moteur``. Percentages shown are rounded half up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from bot.diagnostic.questionnaire import NSP, Level, Option, Question, Questionnaire

#: At most this many reasons are shown with the recommended door (spec: « two or three »).
MAX_REASONS = 3

Answer = str | list[str]


@dataclass(frozen=True)
class DiagnosticResult:
    """The outcome of a diagnostic, as shown in the chat, the API and the report."""

    door: str
    runner_up: str
    scores: dict[str, int]
    maturity: int
    maturity_points: int
    maturity_max: int
    level: str
    dimensions: dict[str, int]
    weakest_dimension: str
    reasons: list[str]
    unanswered: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy (plain dicts, lists, strings and ints)."""
        return {
            "door": self.door,
            "runner_up": self.runner_up,
            "scores": dict(self.scores),
            "maturity": self.maturity,
            "maturity_points": self.maturity_points,
            "maturity_max": self.maturity_max,
            "level": self.level,
            "dimensions": dict(self.dimensions),
            "weakest_dimension": self.weakest_dimension,
            "reasons": list(self.reasons),
            "unanswered": list(self.unanswered),
        }


def percent(points: int, maximum: int) -> int:
    """``points / maximum`` as a percentage rounded half up (0 when ``maximum`` is 0)."""
    if maximum <= 0:
        return 0
    # Exact arithmetic: float rounding (and Python's round-half-even) would make
    # the displayed figure depend on representation accidents.
    return int(Fraction(100 * points, maximum) + Fraction(1, 2))


def level_for(questionnaire: Questionnaire, points: int, maximum: int) -> Level:
    """The level reached with ``points`` out of ``maximum``, decided on the exact
    fraction: the last level whose ``min`` percent is at most ``points / maximum``."""
    reached = questionnaire.levels[0]
    for level in questionnaire.levels:
        # points/maximum >= min/100, in integers so that 29.9 % is never « 30 % ».
        if maximum > 0 and points * 100 >= level.min * maximum:
            reached = level
    return reached


def answer_points(question: Question, value: Answer | None) -> int:
    """Maturity points of one answer; ``nsp`` or no answer scores the question's lowest score."""
    if not question.scored:
        return 0
    if value is None or value == NSP:
        return question.min_score
    if isinstance(value, str):
        return question.option(value).score or 0
    if question.multi is None:
        raise ValueError(f"question {question.id!r}: a list answer is only valid on a multi-choice question")
    total = sum(question.option(oid).score or 0 for oid in _distinct(value))
    return min(total, question.multi.max)


def compute_result(
    questionnaire: Questionnaire, answers: Mapping[str, Answer]
) -> DiagnosticResult:
    """Compute the diagnostic from ``answers`` (question id → option id, ``nsp``,
    or a list of option ids for a multi question).

    Missing questions count as unanswered; keys that are not questions are
    ignored. An invalid answer (unknown option id…) raises ``ValueError``:
    callers check payloads with :meth:`Questionnaire.is_valid_answer` first.
    """
    chosen: dict[str, list[Option]] = {}
    unanswered: list[str] = []
    for question in questionnaire.questions:
        value = answers.get(question.id)
        if value is None or value == NSP:
            unanswered.append(question.id)
            chosen[question.id] = []
            continue
        if not question.is_valid_answer(value):
            raise ValueError(f"invalid answer to question {question.id!r}: {value!r}")
        ids = [value] if isinstance(value, str) else _distinct(value)
        chosen[question.id] = [question.option(oid) for oid in ids]

    # Maturity and level.
    maturity_max = questionnaire.max_maturity_points
    maturity_points = sum(
        answer_points(q, answers.get(q.id)) for q in questionnaire.scored_questions
    )
    level = level_for(questionnaire, maturity_points, maturity_max)

    # Door scores, remembering which answer gave what (for the reasons).
    scores = {door.id: 0 for door in questionnaire.doors}
    contributions: list[tuple[str, int, int, str]] = []  # door, points, position, reason
    for position, question in enumerate(questionnaire.questions):
        for option in chosen[question.id]:
            for door_id, points in option.doors.items():
                scores[door_id] += points
                if option.reason:
                    contributions.append((door_id, points, position, option.reason))
    rule = questionnaire.maturity_rule
    if level.id == rule.level:
        scores[rule.door] += rule.points

    preferred = _preferred_door(chosen[questionnaire.tie_break.question])
    order = questionnaire.tie_break.order
    door = _best_door(scores, list(order), preferred, order)
    runner_up = _best_door(scores, [d for d in order if d != door], preferred, order)

    dimensions, weakest = _dimensions(questionnaire, answers)

    return DiagnosticResult(
        door=door,
        runner_up=runner_up,
        scores=scores,
        maturity=percent(maturity_points, maturity_max),
        maturity_points=maturity_points,
        maturity_max=maturity_max,
        level=level.id,
        dimensions=dimensions,
        weakest_dimension=weakest,
        reasons=_reasons(contributions, door),
        unanswered=unanswered,
    )


def _distinct(values: Sequence[str]) -> list[str]:
    # « la mairie et la préfecture » may come back as ["publics", "publics"]:
    # the spec counts distinct types, in the order first given.
    return list(dict.fromkeys(values))


def _preferred_door(goal_options: Sequence[Option]) -> str | None:
    """The door « chosen » in the tie-break question: the one its answer gives the
    most points to, if there is exactly one such door (None for nsp/no answer)."""
    if len(goal_options) != 1 or not goal_options[0].doors:
        return None
    doors = goal_options[0].doors
    best = max(doors.values())
    top = [d for d, p in doors.items() if p == best]
    return top[0] if len(top) == 1 and best > 0 else None


def _best_door(
    scores: Mapping[str, int],
    candidates: Sequence[str],
    preferred: str | None,
    order: Sequence[str],
) -> str:
    """Highest score among ``candidates``; ties → ``preferred`` if tied, else ``order``."""
    top = max(scores[d] for d in candidates)
    tied = [d for d in candidates if scores[d] == top]
    if preferred in tied:
        return preferred
    return next(d for d in order if d in tied)


def _reasons(contributions: Sequence[tuple[str, int, int, str]], door: str) -> list[str]:
    """Reasons of the answers that gave the most points to ``door``: largest first,
    ties in question order, at most :data:`MAX_REASONS`, no repeats."""
    ranked = sorted(
        (c for c in contributions if c[0] == door and c[1] > 0),
        key=lambda c: (-c[1], c[2]),
    )
    reasons: list[str] = []
    for _, _, _, reason in ranked:
        if reason not in reasons:
            reasons.append(reason)
        if len(reasons) == MAX_REASONS:
            break
    return reasons


def _dimensions(
    questionnaire: Questionnaire, answers: Mapping[str, Answer]
) -> tuple[dict[str, int], str]:
    """Percentage of each dimension, and the weakest one (ties in data order)."""
    percentages: dict[str, int] = {}
    weakest: str | None = None
    weakest_ratio: Fraction | None = None
    for dimension in questionnaire.dimensions:
        points = sum(
            answer_points(questionnaire.question(qid), answers.get(qid))
            for qid in dimension.questions
        )
        percentages[dimension.id] = percent(points, dimension.max)
        # Compare exact fractions: 1/3 and 2/6 are a tie, and rounding must not break it.
        ratio = Fraction(points, dimension.max) if dimension.max else Fraction(0)
        if weakest_ratio is None or ratio < weakest_ratio:
            weakest, weakest_ratio = dimension.id, ratio
    if weakest is None:
        raise ValueError("the questionnaire has no dimension (the loader should have refused it)")
    return percentages, weakest
