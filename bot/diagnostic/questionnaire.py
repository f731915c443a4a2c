"""The maturity questionnaire as validated, immutable data.

The questionnaire lives in ``data/questionnaire.yml`` (spec:
``shared/design/questionnaire.md``) so that a trainer can reword a question or
add an option without touching Python. This module turns that YAML, or the same
structure rebuilt from database rows, into frozen dataclasses and checks it
thoroughly (:mod:`bot.diagnostic.questionnaire_validation`): every problem raises
:class:`QuestionnaireError` with a message naming the file, the entry and the field, e.g.::

    data/questionnaire.yml: question 'goal', option 'odd': unknown door 'xyz' in field 'doors'

It has no Rasa import: actions, the web app, the database loader and the tests
all share it. Scoring lives in :mod:`bot.diagnostic.scoring`.

« Je ne sais pas » is never written in the data: every question implicitly
accepts the option :data:`NSP` (see :attr:`Question.choices`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from bot.diagnostic.text import normalise
from bot.paths import DATA_DIR, REPO_ROOT

DEFAULT_PATH = DATA_DIR / "questionnaire.yml"

#: Option id every question accepts without listing it (« je ne sais pas »).
NSP = "nsp"
NSP_LABEL = "Je ne sais pas"
NSP_SUMMARY = "je ne sais pas"

#: Range of the score of an option of a scored question (spec: « scored 0–3 »).
SCORE_MIN = 0
SCORE_MAX = 3

# Ids travel in button payloads, URLs and CSV exports: keep them to a safe alphabet.
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

_EMPTY_DOORS: Mapping[str, int] = MappingProxyType({})


class QuestionnaireError(ValueError):
    """The questionnaire data is invalid; the message names file, entry and field."""


@dataclass(frozen=True)
class Door:
    """One of the four entry doors (« portes d'entrée »)."""

    id: str
    label: str
    meaning: str


@dataclass(frozen=True)
class Level:
    """A maturity level, reached from ``min`` percent of the maturity points."""

    id: str
    min: int
    label: str
    meaning: str


@dataclass(frozen=True)
class Dimension:
    """A maturity dimension of the report: some scored questions over ``max`` points."""

    id: str
    label: str
    questions: tuple[str, ...]
    max: int


@dataclass(frozen=True)
class Section:
    """A group of questions (profil, maturite, moyens, envies)."""

    id: str
    label: str


@dataclass(frozen=True)
class Option:
    """One answer of a question: a button and what it is worth."""

    id: str
    label: str
    summary: str
    score: int | None = None
    doors: Mapping[str, int] = field(default=_EMPTY_DOORS)
    reason: str | None = None

    @property
    def gives_door_points(self) -> bool:
        """True when choosing this option adds (or removes) door points."""
        return bool(self.doors)


@dataclass(frozen=True)
class MultiChoice:
    """How a list answer is read: which options may be listed, and the score cap."""

    choices: tuple[str, ...]
    max: int


@dataclass(frozen=True)
class TieBreak:
    """Door tie-break: the door chosen in ``question`` wins, else the fixed ``order``."""

    question: str
    order: tuple[str, ...]


@dataclass(frozen=True)
class MaturityRule:
    """Door adjustment applied when the maturity level is ``level``."""

    level: str
    door: str
    points: int


@dataclass(frozen=True)
class Question:
    """One question, its options and why it is asked."""

    id: str
    section: str
    text: str
    why: str
    options: tuple[Option, ...]
    scored: bool = False
    source: str | None = None
    multi: MultiChoice | None = None
    #: how people name the question (« la taille »), to find it in « modifier ma réponse sur la taille »
    names: tuple[str, ...] = ()

    @property
    def is_multi(self) -> bool:
        """True when a list of option ids is a valid answer."""
        return self.multi is not None

    @property
    def option_ids(self) -> tuple[str, ...]:
        """Ids of the options written in the data (without ``nsp``)."""
        return tuple(option.id for option in self.options)

    @property
    def min_score(self) -> int:
        """Lowest score of the question (what ``nsp`` is worth); 0 if unscored."""
        if not self.scored:
            return 0
        return min(option.score or 0 for option in self.options)

    @property
    def max_score(self) -> int:
        """Highest score the question can give; 0 if unscored."""
        if not self.scored:
            return 0
        best = max(option.score or 0 for option in self.options)
        if self.multi is not None:
            best = max(best, self.multi.max)
        return best

    @property
    def nsp_option(self) -> Option:
        """The implicit « Je ne sais pas » option, worth the lowest score."""
        return Option(
            id=NSP,
            label=NSP_LABEL,
            summary=NSP_SUMMARY,
            score=self.min_score if self.scored else None,
        )

    @property
    def choices(self) -> tuple[Option, ...]:
        """Every option offered as a button: the data's options, then ``nsp``."""
        return (*self.options, self.nsp_option)

    def option(self, option_id: str) -> Option:
        """The option ``option_id`` (``nsp`` included); ``KeyError`` if unknown."""
        if option_id == NSP:
            return self.nsp_option
        for option in self.options:
            if option.id == option_id:
                return option
        raise KeyError(f"question {self.id!r} has no option {option_id!r}")

    def is_valid_answer(self, value: object) -> bool:
        """True for an option id, ``nsp``, or (multi questions) a list of choices."""
        if isinstance(value, str):
            return value == NSP or value in self.option_ids
        if isinstance(value, (list, tuple)) and self.multi is not None:
            return bool(value) and all(
                isinstance(item, str) and item in self.multi.choices for item in value
            )
        return False


@dataclass(frozen=True)
class Questionnaire:
    """The whole questionnaire: doors, levels, dimensions and ordered questions."""

    doors: tuple[Door, ...]
    levels: tuple[Level, ...]
    dimensions: tuple[Dimension, ...]
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    tie_break: TieBreak
    maturity_rule: MaturityRule
    source_name: str = "<questionnaire>"
    _by_id: Mapping[str, Question] = field(init=False, repr=False, compare=False)
    _positions: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Lookups are by id on every turn: index once (frozen, hence object.__setattr__).
        object.__setattr__(
            self, "_by_id", MappingProxyType({q.id: q for q in self.questions})
        )
        object.__setattr__(
            self,
            "_positions",
            MappingProxyType({q.id: i for i, q in enumerate(self.questions, start=1)}),
        )

    # ----------------------------------------------------------------- building

    @classmethod
    def from_dict(
        cls,
        data: object,
        source_name: str = "<questionnaire>",
        *,
        allow_extra_fields: bool = False,
    ) -> Questionnaire:
        """Validate ``data`` (the YAML structure) and build the questionnaire.

        ``source_name`` is used in error messages (a file name, or e.g.
        ``"database"``). Unknown fields are errors, to catch typos in the YAML;
        pass ``allow_extra_fields=True`` for rows that carry extra columns.
        """
        from bot.diagnostic.questionnaire_validation import QuestionnaireBuilder  # it builds this class

        return QuestionnaireBuilder(source_name, allow_extra_fields).build(data)

    # ------------------------------------------------------------------ lookups

    @property
    def total(self) -> int:
        """Number of questions (the « 13 » of « Question 5/13 »)."""
        return len(self.questions)

    @property
    def question_ids(self) -> tuple[str, ...]:
        """Question ids in order."""
        return tuple(q.id for q in self.questions)

    @property
    def scored_questions(self) -> tuple[Question, ...]:
        """The questions that count towards maturity, in order."""
        return tuple(q for q in self.questions if q.scored)

    @property
    def max_maturity_points(self) -> int:
        """Total maturity points (18 with the spec's six questions scored 0–3)."""
        return sum(q.max_score for q in self.scored_questions)

    def has_question(self, question_id: str) -> bool:
        """True if ``question_id`` is a question of this questionnaire."""
        return question_id in self._by_id

    def question(self, question_id: str) -> Question:
        """The question ``question_id``; ``KeyError`` if unknown."""
        try:
            return self._by_id[question_id]
        except KeyError:
            raise KeyError(f"unknown question {question_id!r}") from None

    def position(self, question_id: str) -> int:
        """1-based position of the question; ``KeyError`` if unknown."""
        self.question(question_id)
        return self._positions[question_id]

    def previous(self, question_id: str) -> Question | None:
        """The question before ``question_id``, or None for the first one."""
        index = self.position(question_id) - 1
        return self.questions[index - 1] if index > 0 else None

    def next_unanswered(self, answers: Mapping[str, object]) -> Question | None:
        """First question, in order, without a valid answer (``nsp`` counts as one)."""
        for question in self.questions:
            if not question.is_valid_answer(answers.get(question.id)):
                return question
        return None

    def option(self, question_id: str, option_id: str) -> Option:
        """Option ``option_id`` of question ``question_id`` (``nsp`` included)."""
        return self.question(question_id).option(option_id)

    def is_valid_answer(self, question_id: str, value: object) -> bool:
        """True if ``value`` answers ``question_id``: an option id, ``nsp``, or a
        list of choice ids for a multi question. Unknown questions are invalid
        (payloads can be forged)."""
        question = self._by_id.get(question_id)
        return question is not None and question.is_valid_answer(value)

    def door(self, door_id: str) -> Door:
        """The door ``door_id``; ``KeyError`` if unknown."""
        return _find(self.doors, door_id, "door")

    def level(self, level_id: str) -> Level:
        """The level ``level_id``; ``KeyError`` if unknown."""
        return _find(self.levels, level_id, "level")

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension ``dimension_id``; ``KeyError`` if unknown."""
        return _find(self.dimensions, dimension_id, "dimension")

    def named_in(self, text: str) -> list[Question]:
        """The questions a message names (« je me suis trompé sur la taille »), longest names first."""
        padded = f" {normalise(text)} "
        found: list[tuple[int, Question]] = []
        for question in self.questions:
            lengths = [len(normalise(name)) for name in question.names if f" {normalise(name)} " in padded]
            if lengths:
                found.append((max(lengths), question))
        return [question for _, question in sorted(found, key=lambda item: -item[0])]

    def section(self, section_id: str) -> Section:
        """The section ``section_id``; ``KeyError`` if unknown."""
        return _find(self.sections, section_id, "section")


def _find(items: Iterable[Any], item_id: str, kind: str) -> Any:
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(f"unknown {kind} {item_id!r}")


def load_questionnaire(path: Path | str | None = None) -> Questionnaire:
    """Read and validate the questionnaire YAML (default ``data/questionnaire.yml``)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    source_name = _display_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuestionnaireError(f"{source_name}: cannot read file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{source_name}: invalid YAML: {exc}") from exc
    return Questionnaire.from_dict(data, source_name)


def _display_name(path: Path) -> str:
    # Messages read better (and match across machines) relative to the repository.
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
