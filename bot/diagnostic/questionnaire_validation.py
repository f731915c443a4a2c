"""Validation of the questionnaire data, field by field, into the dataclasses of :mod:`.questionnaire`.

Every problem raises :class:`~bot.diagnostic.questionnaire.QuestionnaireError` naming the
file (or ``database``), the entry and the field, so that a trainer who edits
``data/questionnaire.yml`` knows what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from bot.diagnostic.questionnaire import (
    _EMPTY_DOORS,
    _ID_PATTERN,
    NSP,
    NSP_LABEL,
    SCORE_MAX,
    SCORE_MIN,
    Dimension,
    Door,
    Level,
    MaturityRule,
    MultiChoice,
    Option,
    Question,
    Questionnaire,
    QuestionnaireError,
    Section,
    TieBreak,
)


class QuestionnaireBuilder:
    """Validates the raw structure field by field and builds the dataclasses."""

    _TOP_FIELDS = frozenset(
        {"doors", "levels", "dimensions", "sections", "tie_break", "maturity_rule", "questions"}
    )

    def __init__(self, source_name: str, allow_extra_fields: bool) -> None:
        self.source = source_name
        self.allow_extra = allow_extra_fields

    # -- error helpers

    def fail(self, entry: str, message: str) -> QuestionnaireError:
        where = f"{self.source}: {entry}: " if entry else f"{self.source}: "
        return QuestionnaireError(where + message)

    def mapping(self, value: object, entry: str, allowed: Iterable[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(entry, f"must be a mapping of fields, got {_kind(value)}")
        if not self.allow_extra:
            unknown = [str(k) for k in value if k not in allowed]
            if unknown:
                raise self.fail(entry, f"unknown field {unknown[0]!r}")
        return value

    def sequence(self, value: object, entry: str, name: str) -> Sequence[Any]:
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
            raise self.fail(entry, f"field {name!r} must be a non-empty list, got {_kind(value)}")
        return value

    def required(self, data: Mapping[str, Any], name: str, entry: str) -> Any:
        if name not in data or data[name] is None:
            raise self.fail(entry, f"missing field {name!r}")
        return data[name]

    def text(self, data: Mapping[str, Any], name: str, entry: str) -> str:
        value = self.required(data, name, entry)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(entry, f"field {name!r} must be a non-empty text, got {_kind(value)}")
        return value.strip()

    def optional_text(self, data: Mapping[str, Any], name: str, entry: str) -> str | None:
        if data.get(name) is None:
            return None
        return self.text(data, name, entry)

    def integer(self, data: Mapping[str, Any], name: str, entry: str) -> int:
        value = self.required(data, name, entry)
        # bool is an int subclass: « score: yes » must not silently become 1.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(entry, f"field {name!r} must be an integer, got {_kind(value)}")
        return value

    def identifier(self, data: Mapping[str, Any], entry: str) -> str:
        value = self.required(data, "id", entry)
        if not isinstance(value, str) or not _ID_PATTERN.match(value):
            raise self.fail(
                entry,
                f"field 'id' must be a lowercase identifier (a-z, 0-9, _), got {value!r}",
            )
        return value

    def entry_name(self, kind: str, raw: object, index: int) -> str:
        # Name an entry by its id when it has a usable one, else by its position.
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) and raw["id"]:
            return f"{kind} {raw['id']!r}"
        return f"{kind} #{index}"

    def unique(self, seen: dict[str, str], item_id: str, entry: str, kind: str) -> None:
        if item_id in seen:
            raise self.fail(
                entry, f"duplicate {kind} id {item_id!r} in field 'id' (already used by {seen[item_id]})"
            )

    # -- the document

    def build(self, data: object) -> Questionnaire:
        top = self.mapping(data, "", self._TOP_FIELDS)
        for name in ("doors", "levels", "dimensions", "sections", "tie_break", "maturity_rule", "questions"):
            self.required(top, name, "")
        doors = self.build_doors(top["doors"])
        door_ids = [d.id for d in doors]
        levels = self.build_levels(top["levels"])
        sections = self.build_sections(top["sections"])
        questions = self.build_questions(top["questions"], door_ids, [s.id for s in sections])
        dimensions = self.build_dimensions(top["dimensions"], questions)
        tie_break = self.build_tie_break(top["tie_break"], door_ids, questions)
        maturity_rule = self.build_maturity_rule(top["maturity_rule"], door_ids, levels)
        return Questionnaire(
            doors=doors,
            levels=levels,
            dimensions=dimensions,
            sections=sections,
            questions=questions,
            tie_break=tie_break,
            maturity_rule=maturity_rule,
            source_name=self.source,
        )

    def build_doors(self, raw: object) -> tuple[Door, ...]:
        seen: dict[str, str] = {}
        doors = []
        for index, item in enumerate(self.sequence(raw, "", "doors"), start=1):
            entry = self.entry_name("door", item, index)
            data = self.mapping(item, entry, {"id", "label", "meaning"})
            door_id = self.identifier(data, entry)
            self.unique(seen, door_id, entry, "door")
            seen[door_id] = f"door #{index}"
            doors.append(
                Door(door_id, self.text(data, "label", entry), self.text(data, "meaning", entry))
            )
        return tuple(doors)

    def build_levels(self, raw: object) -> tuple[Level, ...]:
        seen: dict[str, str] = {}
        levels: list[Level] = []
        for index, item in enumerate(self.sequence(raw, "", "levels"), start=1):
            entry = self.entry_name("level", item, index)
            data = self.mapping(item, entry, {"id", "min", "label", "meaning"})
            level_id = self.identifier(data, entry)
            self.unique(seen, level_id, entry, "level")
            seen[level_id] = f"level #{index}"
            minimum = self.integer(data, "min", entry)
            if not 0 <= minimum <= 100:
                raise self.fail(entry, f"field 'min' must be a percentage between 0 and 100, got {minimum}")
            if not levels and minimum != 0:
                # Otherwise a low score would have no level at all.
                raise self.fail(entry, f"field 'min' must be 0 for the first level, got {minimum}")
            if levels and minimum <= levels[-1].min:
                raise self.fail(
                    entry,
                    f"field 'min' must be greater than the previous level's min "
                    f"({levels[-1].min}), got {minimum}: levels must be increasing",
                )
            levels.append(
                Level(level_id, minimum, self.text(data, "label", entry), self.text(data, "meaning", entry))
            )
        return tuple(levels)

    def build_sections(self, raw: object) -> tuple[Section, ...]:
        seen: dict[str, str] = {}
        sections = []
        for index, item in enumerate(self.sequence(raw, "", "sections"), start=1):
            entry = self.entry_name("section", item, index)
            data = self.mapping(item, entry, {"id", "label"})
            section_id = self.identifier(data, entry)
            self.unique(seen, section_id, entry, "section")
            seen[section_id] = f"section #{index}"
            sections.append(Section(section_id, self.text(data, "label", entry)))
        return tuple(sections)

    def build_questions(
        self, raw: object, door_ids: Sequence[str], section_ids: Sequence[str]
    ) -> tuple[Question, ...]:
        seen: dict[str, str] = {}
        questions = []
        for index, item in enumerate(self.sequence(raw, "", "questions"), start=1):
            entry = self.entry_name("question", item, index)
            data = self.mapping(
                item, entry, {"id", "section", "names", "text", "why", "source", "scored", "multi", "options"}
            )
            question_id = self.identifier(data, entry)
            self.unique(seen, question_id, entry, "question")
            seen[question_id] = f"question #{index}"
            section = self.text(data, "section", entry)
            if section not in section_ids:
                raise self.fail(
                    entry,
                    f"unknown section {section!r} in field 'section' (known sections: {', '.join(section_ids)})",
                )
            scored = data.get("scored", False)
            if not isinstance(scored, bool):
                raise self.fail(entry, f"field 'scored' must be true or false, got {_kind(scored)}")
            options = self.build_options(self.required(data, "options", entry), entry, scored, door_ids)
            multi = self.build_multi(data.get("multi"), entry, scored, options)
            questions.append(
                Question(
                    id=question_id,
                    section=section,
                    text=self.text(data, "text", entry),
                    why=self.text(data, "why", entry),
                    options=options,
                    scored=scored,
                    source=self.optional_text(data, "source", entry),
                    multi=multi,
                    names=self.names(data.get("names"), entry),
                )
            )
        return tuple(questions)

    def names(self, raw: object, entry: str) -> tuple[str, ...]:
        """The optional list of names of a question (« taille », « effectif »)."""
        if raw is None:
            return ()
        values = self.sequence(raw, entry, "names")
        if not all(isinstance(value, str) and value.strip() for value in values):
            raise self.fail(entry, "field 'names' must be a list of non-empty texts")
        return tuple(value.strip() for value in values)

    def build_options(
        self, raw: object, question_entry: str, scored: bool, door_ids: Sequence[str]
    ) -> tuple[Option, ...]:
        seen: dict[str, str] = {}
        options = []
        for index, item in enumerate(self.sequence(raw, question_entry, "options"), start=1):
            entry = f"{question_entry}, {self.entry_name('option', item, index)}"
            data = self.mapping(item, entry, {"id", "label", "summary", "score", "doors", "reason"})
            option_id = self.identifier(data, entry)
            if option_id == NSP:
                raise self.fail(
                    entry,
                    f"option id {NSP!r} in field 'id' is reserved: « {NSP_LABEL} » is added automatically",
                )
            self.unique(seen, option_id, entry, "option")
            seen[option_id] = f"option #{index}"
            score: int | None = None
            if scored:
                score = self.integer(data, "score", entry)
                if not SCORE_MIN <= score <= SCORE_MAX:
                    raise self.fail(
                        entry, f"field 'score' must be between {SCORE_MIN} and {SCORE_MAX}, got {score}"
                    )
            elif data.get("score") is not None:
                raise self.fail(
                    entry, "field 'score' is only allowed on scored questions (add 'scored: true')"
                )
            doors = self.build_door_points(data.get("doors"), entry, door_ids)
            reason = self.optional_text(data, "reason", entry)
            if doors and reason is None:
                raise self.fail(
                    entry, "missing field 'reason' (required when the option gives door points)"
                )
            options.append(
                Option(
                    id=option_id,
                    label=self.text(data, "label", entry),
                    summary=self.text(data, "summary", entry),
                    score=score,
                    doors=doors,
                    reason=reason,
                )
            )
        return tuple(options)

    def build_door_points(
        self, raw: object, entry: str, door_ids: Sequence[str]
    ) -> Mapping[str, int]:
        if raw is None:
            return _EMPTY_DOORS
        if not isinstance(raw, Mapping):
            raise self.fail(
                entry, f"field 'doors' must map door ids to points, e.g. {{territoire: 2}}, got {_kind(raw)}"
            )
        points: dict[str, int] = {}
        for door_id, value in raw.items():
            if door_id not in door_ids:
                raise self.fail(
                    entry,
                    f"unknown door {door_id!r} in field 'doors' (known doors: {', '.join(door_ids)})",
                )
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail(
                    entry, f"field 'doors' must give an integer number of points to {door_id!r}, got {_kind(value)}"
                )
            points[door_id] = value
        return MappingProxyType(points) if points else _EMPTY_DOORS

    def build_multi(
        self, raw: object, question_entry: str, scored: bool, options: Sequence[Option]
    ) -> MultiChoice | None:
        if raw is None:
            return None
        data = self.mapping(raw, f"{question_entry}, field 'multi'", {"choices", "max"})
        if not scored:
            # A list answer only changes the score; on an unscored question it means nothing.
            raise self.fail(question_entry, "field 'multi' is only allowed on scored questions")
        option_ids = [o.id for o in options]
        choices = self.sequence(
            self.required(data, "choices", f"{question_entry}, field 'multi'"),
            question_entry,
            "multi.choices",
        )
        for choice in choices:
            if choice not in option_ids:
                raise self.fail(
                    question_entry,
                    f"unknown option {choice!r} in field 'multi.choices' (options: {', '.join(option_ids)})",
                )
        if len(set(choices)) != len(choices):
            raise self.fail(question_entry, "field 'multi.choices' lists an option twice")
        cap = self.integer(data, "max", f"{question_entry}, field 'multi'")
        if not SCORE_MIN <= cap <= SCORE_MAX:
            raise self.fail(
                question_entry,
                f"field 'multi.max' must be between {SCORE_MIN} and {SCORE_MAX}, got {cap}",
            )
        return MultiChoice(tuple(choices), cap)

    def build_dimensions(
        self, raw: object, questions: Sequence[Question]
    ) -> tuple[Dimension, ...]:
        by_id = {q.id: q for q in questions}
        seen: dict[str, str] = {}
        owner: dict[str, str] = {}
        dimensions = []
        for index, item in enumerate(self.sequence(raw, "", "dimensions"), start=1):
            entry = self.entry_name("dimension", item, index)
            data = self.mapping(item, entry, {"id", "label", "questions", "max"})
            dimension_id = self.identifier(data, entry)
            self.unique(seen, dimension_id, entry, "dimension")
            seen[dimension_id] = f"dimension #{index}"
            question_ids = self.sequence(
                self.required(data, "questions", entry), entry, "questions"
            )
            total = 0
            for question_id in question_ids:
                question = by_id.get(question_id) if isinstance(question_id, str) else None
                if question is None:
                    raise self.fail(entry, f"unknown question {question_id!r} in field 'questions'")
                if not question.scored:
                    raise self.fail(
                        entry, f"question {question_id!r} in field 'questions' is not scored"
                    )
                if question_id in owner:
                    raise self.fail(
                        entry,
                        f"question {question_id!r} in field 'questions' is already in dimension {owner[question_id]!r}",
                    )
                owner[question_id] = dimension_id
                total += question.max_score
            maximum = self.integer(data, "max", entry)
            if maximum != total:
                # The percentage of the picture would silently be wrong otherwise.
                raise self.fail(
                    entry,
                    f"field 'max' is {maximum} but the questions in field 'questions' add up to {total} points",
                )
            dimensions.append(
                Dimension(dimension_id, self.text(data, "label", entry), tuple(question_ids), maximum)
            )
        return tuple(dimensions)

    def build_tie_break(
        self, raw: object, door_ids: Sequence[str], questions: Sequence[Question]
    ) -> TieBreak:
        entry = "tie_break"
        data = self.mapping(raw, entry, {"question", "order"})
        question_id = self.text(data, "question", entry)
        if question_id not in {q.id for q in questions}:
            raise self.fail(entry, f"unknown question {question_id!r} in field 'question'")
        order = self.sequence(self.required(data, "order", entry), entry, "order")
        for door_id in order:
            if door_id not in door_ids:
                raise self.fail(entry, f"unknown door {door_id!r} in field 'order'")
        if len(set(order)) != len(order) or set(order) != set(door_ids):
            raise self.fail(
                entry,
                f"field 'order' must list every door exactly once ({', '.join(door_ids)})",
            )
        return TieBreak(question_id, tuple(order))

    def build_maturity_rule(
        self, raw: object, door_ids: Sequence[str], levels: Sequence[Level]
    ) -> MaturityRule:
        entry = "maturity_rule"
        data = self.mapping(raw, entry, {"level", "door", "points"})
        level_id = self.text(data, "level", entry)
        if level_id not in {lv.id for lv in levels}:
            raise self.fail(entry, f"unknown level {level_id!r} in field 'level'")
        door_id = self.text(data, "door", entry)
        if door_id not in door_ids:
            raise self.fail(entry, f"unknown door {door_id!r} in field 'door'")
        return MaturityRule(level_id, door_id, self.integer(data, "points", entry))


def _kind(value: object) -> str:
    # Short, readable description of a wrong value for error messages.
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return type(value).__name__
