"""Corrections in words, and the answers a message gives before the questionnaire starts.

« non, on est une collectivité », « en fait on a 40 salariés », « je me suis trompée sur la taille »,
« modifier ma réponse sur l'évaluation »: :func:`read_correction` finds the new values (profile facts
and option intents, read like any answer but allowed to replace an earlier one) and the question the
message names (:meth:`Questionnaire.named_in`), when it names one without its new value.

Before the questionnaire, « je suis chargée de mission dans une communauté d'agglo » already answers a
question: :func:`read_before_start` keeps what a message says of the user themself (« je suis »,
« on est », « notre structure »…), never what they ask about (« des exemples d'associations »).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.diagnostic.answers import (
    OPTION_INTENT_PREFIX,
    PROFILE_ENTITY_QUESTIONS,
    Answer,
    Interpretation,
    interpret,
)
from bot.diagnostic.entities import choose, for_question, mentions, size_from_headcount, speaks_of_oneself, values_of
from bot.diagnostic.questionnaire import Questionnaire
from bot.diagnostic.text import normalise

CORRECT_INTENT = "correct"
CHANGE_INTENT = "change_answer"
# How people say that an earlier answer was wrong (read on the normalised text).
_CORRECTION_CUES = re.compile(
    r"\b(?:en fait|en realite|finalement|non c est|non on est|non nous sommes|non on a|non nous avons|c est faux|c etait faux|je me suis trompee?|je me suis plante|"
    r"erreur|correction|je corrige|je voulais dire|j ai mal repondu|mal repondu|pas ca|je rectifie|rectification|"
    r"modifier|changer|corriger)\b"
)
MIN_CORRECTION_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Correction:
    """What a correction changes: new values, and a question named without its new value."""

    answers: dict[str, Answer] = field(default_factory=dict)
    doubts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    question: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.answers and not self.doubts and self.question is None


def sounds_like_a_correction(text: str) -> bool:
    return bool(_CORRECTION_CUES.search(normalise(text)))


def _profile_values(questionnaire: Questionnaire, parse: Mapping[str, Any]) -> Interpretation:
    """Every profile fact of the message, each read as if its question were asked (gazetteer and equivalents
    included), rejected words left out; a question with two values and no preference is a doubt."""
    found = mentions(parse)
    answers: dict[str, Answer] = {}
    doubts: dict[str, tuple[str, ...]] = {}
    size = size_from_headcount(parse.get("text") or "")
    if size:
        answers["size"] = size
    for entity_type, question_id in PROFILE_ENTITY_QUESTIONS.items():
        if question_id in answers:
            continue
        question = questionnaire.question(question_id)
        values = [mention for mention in for_question(found, question_id, entity_type)
                  if mention.value in question.option_ids]
        value, candidates = choose(values, parse.get("text") or "")
        if value is not None:
            answers[question_id] = value
        elif len(candidates) >= 2:
            doubts[question_id] = candidates
    return Interpretation(answers=answers, doubts=doubts)


def _best_option_intent(questionnaire: Questionnaire, parse: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (question, option) of the most confident option intent, if it is confident enough."""
    for entry in parse.get("intent_ranking") or []:
        name, confidence = entry.get("name") or "", float(entry.get("confidence") or 0.0)
        if not name.startswith(OPTION_INTENT_PREFIX):
            continue
        if confidence < MIN_CORRECTION_CONFIDENCE:
            return None
        for question in questionnaire.questions:
            prefix = f"{OPTION_INTENT_PREFIX}{question.id}_"
            if name.startswith(prefix) and name[len(prefix):] in question.option_ids:
                return question.id, name[len(prefix):]
        return None
    return None


def read_correction(questionnaire: Questionnaire, parse: Mapping[str, Any], answered: Mapping[str, Any]) -> Correction:
    """What a correction says: the new values of answered questions (or of a question it names), the doubts,
    or the one question it names without a new value."""
    text = parse.get("text") or ""
    named = [question.id for question in questionnaire.named_in(text)]
    if parse.get("intent", {}).get("name") == "answer":  # a button of an older question
        reading = interpret(questionnaire, parse, None, {})
        return Correction(answers=dict(reading.answers))
    profile = _profile_values(questionnaire, parse)
    answers = {question_id: value for question_id, value in profile.answers.items()
               if question_id in answered or question_id in named}
    doubts = {question_id: values for question_id, values in profile.doubts.items()
              if question_id in answered or question_id in named}
    option = _best_option_intent(questionnaire, parse)
    if option is not None and option[0] not in answers and (option[0] in answered or option[0] in named):
        answers[option[0]] = option[1]
    for question_id in named:  # « la taille : 40 salariés »: the value read as an answer to that question
        if question_id not in answers and question_id not in doubts:
            reading = interpret(questionnaire, parse, question_id, {})
            if question_id in reading.answers and reading.how.get(question_id) not in ("label",):
                answers[question_id] = reading.answers[question_id]
    unanswered_name = next((question_id for question_id in named if question_id not in answers), None)
    return Correction(answers=answers, doubts=doubts, question=None if answers or doubts else unanswered_name)


def read_before_start(questionnaire: Questionnaire, parse: Mapping[str, Any]) -> dict[str, Answer]:
    """The profile facts a message gives about the user themself, before the questionnaire has started."""
    text = parse.get("text") or ""
    if text.startswith("/"):
        return {}
    if speaks_of_oneself(text) or (parse.get("intent") or {}).get("name") == "inform":
        return dict(_profile_values(questionnaire, parse).answers)
    found = mentions(parse)  # otherwise only what DIET is sure the message states of a profile
    answers: dict[str, Answer] = {}
    for entity_type, question_id in PROFILE_ENTITY_QUESTIONS.items():
        value, _ = choose(values_of(found, entity_type, diet_only=True))
        if value is not None and questionnaire.is_valid_answer(question_id, value):
            answers[question_id] = value
    return answers
