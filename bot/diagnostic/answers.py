"""Reading a user's message as answers to the questionnaire.

The NLU (Rasa) gives an intent ranking and entities; this module turns them
into option ids, in the context of the question being asked:

* a button payload (intent ``answer``) is taken as it is, if its question and
  option exist (a forged one is refused and nothing is stored);
* an exact option label typed by hand is taken as it is;
* profile entities (actor type, size, scale, theme) may answer several
  questions in one message (« une asso de quartier, que des bénévoles »);
  a head-count (« on est 15 salariés ») gives the size;
* partner-type entities answer the two « partners » questions when asked;
* a word means different things depending on the question: « la mairie » is
  an actor type when asked who you are, a partner type when asked with whom
  you work; entities are translated to the asked question when needed;
* « non » to a yes/no-like scored question means its lowest option;
* what DIET misses is looked up in the gazetteer of the training data
  (bot/diagnostic/gazetteer.py), and « je ne sais pas » in its common spellings;
* for the sentence-level questions, each option has its intent
  ``inform_<question>_<option>``; the best-ranked option *of the question asked*
  wins, so « pas encore » means ``aucun`` or ``non`` depending on the question.

No Rasa import: the parse is the plain dict Rasa puts in ``latest_message``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.diagnostic.gazetteer import gazetteer
from bot.diagnostic.questionnaire import NSP, Question, Questionnaire
from bot.diagnostic.text import normalise

ANSWER_PAYLOAD_INTENT = "answer"
DONT_KNOW_INTENT = "dont_know"
PROFILE_ENTITY_QUESTIONS = {"actor_type": "actor_type", "size": "size", "scale": "scale", "theme": "theme"}
PARTNER_ENTITY = "partner_type"
PARTNER_QUESTIONS = ("partners", "partners_wanted")
ALL_PARTNERS_OPTION = "tous"
OPTION_INTENT_PREFIX = "inform_"
# Intents under which a message may carry an answer; any other intent (why, back,
# doors, chit-chat…) is an interruption handled by the dialogue rules.
ANSWERING_INTENTS = frozenset({ANSWER_PAYLOAD_INTENT, DONT_KNOW_INTENT, "inform", "affirm", "deny", "nlu_fallback"})
DENY_INTENT = "deny"
# Below this confidence, the best option of the asked question is a guess, not an answer.
MIN_OPTION_CONFIDENCE = 0.05
# The same words name an actor and a partner: (entity, value) read for the asked question.
# Read in this order, after the words of the question's own type (so « une asso régionale » stays an association).
ENTITY_EQUIVALENTS: dict[str, dict[tuple[str, str], str]] = {
    "actor_type": {
        ("partner_type", "associations"): "association",
        ("partner_type", "publics"): "collectivite",
        ("partner_type", "entreprises"): "entreprise",
        ("size", "tpe"): "entreprise",  # « une pme », « un grand groupe »
        ("size", "pme"): "entreprise",
        ("size", "grande"): "entreprise",
        ("scale", "departement"): "collectivite",  # « la comcom », « le département »
        ("scale", "region"): "collectivite",
    },
    "partners": {
        ("actor_type", "association"): "associations",
        ("actor_type", "collectivite"): "publics",
        ("actor_type", "entreprise"): "entreprises",
        ("actor_type", "fondation"): "entreprises",
        ("size", "tpe"): "entreprises",
        ("size", "pme"): "entreprises",
        ("size", "grande"): "entreprises",
        ("scale", "departement"): "publics",
        ("scale", "region"): "publics",
    },
}
ENTITY_EQUIVALENTS["partners_wanted"] = ENTITY_EQUIVALENTS["partners"]

_NUMBER = r"(\d[\d .]*)"
_STAFF_WORDS = r"(?:salarie|employe|personne|collaborateur|etp|agent|permanent)"
_HEADCOUNT = re.compile(rf"(?:(moins de|plus de|au moins)\s+)?{_NUMBER}\s*{_STAFF_WORDS}")
_BARE_COUNT = re.compile(rf"^(?:(moins de|plus de|au moins)\s+)?{_NUMBER}$")
_ALONE_ON_STAFF = re.compile(r"\b(seule?|unique) (?:salarie|employe|permanent)")
SIZE_BUCKETS = ((0, "benevole"), (1, "tpe"), (10, "pme"), (250, "grande"))
# « Je ne sais pas » as people write it; read only when nothing else answers the question.
_DONT_KNOW = re.compile(
    r"\b(?:je ne sais pas|je sais pas|j sais pas|jsais pas|sais pas|chais pas|jsp|aucune idee|pas d idee|"
    r"je ne suis pas sur|pas sure?|pas certaine?|difficile a dire|bonne question|je n en sais rien|aucun avis)\b"
)

Answer = str | list[str]


@dataclass(frozen=True)
class Interpretation:
    """What a message says about the questionnaire."""

    answers: dict[str, Answer] = field(default_factory=dict)
    # True when the message was a questionnaire button whose question or option does not exist.
    forged_payload: bool = False

    def answers_question(self, question_id: str | None) -> bool:
        return question_id is not None and question_id in self.answers


def is_answering_intent(intent: str | None) -> bool:
    """True when a message with this intent should be read as an answer."""
    return intent is not None and (intent in ANSWERING_INTENTS or intent.startswith(OPTION_INTENT_PREFIX))


def size_from_headcount(text: str, bare_number_allowed: bool = False) -> str | None:
    """« on est 15 salariés » → ``pme``, « moins de 10 salariés » → ``tpe``; None without a head-count.

    A number alone (« plus de 250 ») is read only when the size question is asked.
    """
    typed = normalise(text)
    if _ALONE_ON_STAFF.search(typed):
        return "tpe"
    match = _HEADCOUNT.search(typed) or (_BARE_COUNT.match(typed) if bare_number_allowed else None)
    if not match:
        return None
    qualifier, digits = match.group(1), re.sub(r"\D", "", match.group(2))
    if not digits:
        return None
    count = int(digits) + {"moins de": -1, "plus de": 1}.get(qualifier or "", 0)
    return next(option for threshold, option in reversed(SIZE_BUCKETS) if count >= threshold)


def _intent_name(parse: Mapping[str, Any]) -> str | None:
    intent = parse.get("intent") or {}
    return intent.get("name")


GazetteerMatch = tuple[str, str, int]  # entity type, value, position: what Gazetteer.find returns


def _entity_values(
    parse: Mapping[str, Any], entity_type: str, known: Sequence[GazetteerMatch] | None = None
) -> list[str]:
    """Distinct values of one entity type, in the order they appear: DIET's first, then the gazetteer's."""
    values: list[str] = []
    entities = sorted(parse.get("entities") or [], key=lambda entity: entity.get("start", 0))
    for entity in entities:
        value = entity.get("value")
        if entity.get("entity") == entity_type and isinstance(value, str) and value not in values:
            values.append(value)
    if known is not None:
        values += [value for kind, value, _ in known if kind == entity_type and value not in values]
    return values


def _payload_answer(questionnaire: Questionnaire, parse: Mapping[str, Any]) -> Interpretation:
    question_ids = _entity_values(parse, "question_id")
    choices = _entity_values(parse, "choice")
    if len(question_ids) != 1 or len(choices) != 1:
        return Interpretation(forged_payload=True)
    question_id, choice = question_ids[0], choices[0]
    if not questionnaire.has_question(question_id) or not questionnaire.is_valid_answer(question_id, choice):
        return Interpretation(forged_payload=True)
    return Interpretation(answers={question_id: choice})


def _label_match(question: Question, text: str) -> str | None:
    typed = normalise(text)
    for option in question.choices:
        if typed in (normalise(option.label), normalise(option.id)):
            return option.id
    return None


def _entities_for(question: Question, parse: Mapping[str, Any], entity_type: str) -> list[str]:
    """Values of ``entity_type``, plus other entities that mean the same for this question."""
    known = gazetteer().find(parse.get("text") or "")  # one scan of the message, read for every type
    values = _entity_values(parse, entity_type, known)
    equivalents = ENTITY_EQUIVALENTS.get(question.id, {})
    for (other_type, other_value), value in equivalents.items():
        if other_value in _entity_values(parse, other_type, known) and value not in values:
            values.append(value)
    return values


def _lowest_option(question: Question) -> str | None:
    """The option a plain « non » stands for on a scored question (its lowest score)."""
    if not question.scored:
        return None
    return min(question.options, key=lambda option: option.score or 0).id


def _partner_answer(question: Question, partners: Sequence[str]) -> Answer | None:
    valid = [value for value in partners if value in question.option_ids or (question.multi and value in question.multi.choices)]
    if not valid:
        return None
    if len(valid) == 1:
        return valid[0]
    if question.multi is not None:
        return [choice for choice in question.multi.choices if choice in valid]  # canonical order
    if ALL_PARTNERS_OPTION in question.option_ids and len(valid) >= 3:
        return ALL_PARTNERS_OPTION
    return valid[0]  # a single-choice question: the first type named


def _option_of_another_question(questionnaire: Questionnaire, question: Question, intent: str | None) -> str | None:
    """« jamais » classified as « no experience » answers « do you evaluate? » with its lowest option too.

    Only the same option id, or the lowest option of two scored questions, carries over.
    """
    if not intent or not intent.startswith(OPTION_INTENT_PREFIX):
        return None
    for other in questionnaire.questions:
        prefix = f"{OPTION_INTENT_PREFIX}{other.id}_"
        if other.id == question.id or not intent.startswith(prefix):
            continue
        option_id = intent[len(prefix):]
        if option_id not in other.option_ids:
            continue
        if option_id in question.option_ids:
            return option_id
        if other.scored and option_id == _lowest_option(other):
            return _lowest_option(question)
    return None


def _best_option_by_intent(question: Question, parse: Mapping[str, Any]) -> str | None:
    candidates = {f"{OPTION_INTENT_PREFIX}{question.id}_{option.id}": option.id for option in question.options}
    ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
    best = max(
        ((entry.get("confidence") or 0.0, candidates[entry["name"]]) for entry in ranking if entry.get("name") in candidates),
        default=None,
    )
    if best is None or best[0] < MIN_OPTION_CONFIDENCE:
        return None
    return best[1]


def interpret(
    questionnaire: Questionnaire,
    parse: Mapping[str, Any],
    asked: str | None,
    answered: Mapping[str, Any] | None = None,
) -> Interpretation:
    """Read ``parse`` (Rasa's parse of one message) while question ``asked`` is pending.

    Only the asked question and profile questions not answered yet are filled:
    a passing remark never overwrites an earlier answer. ``asked`` is None when
    the questionnaire is not running (only profile facts are read then).
    """
    answered = answered or {}
    intent = _intent_name(parse)
    if intent == ANSWER_PAYLOAD_INTENT:
        return _payload_answer(questionnaire, parse)
    question = questionnaire.question(asked) if asked and questionnaire.has_question(asked) else None
    text = parse.get("text") or ""
    answers: dict[str, Answer] = {}

    def may_fill(question_id: str) -> bool:
        return question_id == asked or (question_id not in answered and question_id not in answers)

    if question is not None:
        if intent == DONT_KNOW_INTENT:
            return Interpretation(answers={question.id: NSP})
        typed_option = _label_match(question, text)
        if typed_option is not None:
            return Interpretation(answers={question.id: typed_option})

    headcount_size = size_from_headcount(text, bare_number_allowed=asked == "size")
    if headcount_size and may_fill("size"):
        answers["size"] = headcount_size
    for entity_type, question_id in PROFILE_ENTITY_QUESTIONS.items():
        if question_id in answers:
            continue
        values = (
            _entities_for(question, parse, entity_type) if question is not None and question.id == question_id
            else _entity_values(parse, entity_type)  # passing remarks: only what DIET is sure of
        )
        for value in values:
            if may_fill(question_id) and questionnaire.is_valid_answer(question_id, value) and value != NSP:
                answers[question_id] = value
                break

    if question is not None and question.id not in answers:
        if question.id in PARTNER_QUESTIONS:
            partner_answer = _partner_answer(question, _entities_for(question, parse, PARTNER_ENTITY))
            if partner_answer is not None:
                answers[question.id] = partner_answer
        if question.id not in answers and intent == DENY_INTENT:
            lowest = _lowest_option(question)
            if lowest is not None:
                answers[question.id] = lowest
        if question.id not in answers:
            option_id = _best_option_by_intent(question, parse) or _option_of_another_question(
                questionnaire, question, intent
            )
            if option_id is not None:
                answers[question.id] = option_id
        if question.id not in answers and _DONT_KNOW.search(normalise(text)):
            answers[question.id] = NSP
    return Interpretation(answers=answers)


def summarise(questionnaire: Questionnaire, answers: Mapping[str, Answer]) -> str:
    """One line confirming answers, in questionnaire order: « une association, bénévoles uniquement »."""
    parts: list[str] = []
    for question in questionnaire.questions:
        if question.id not in answers:
            continue
        value = answers[question.id]
        values = value if isinstance(value, list) else [value]
        parts.append(" et ".join(question.option(item).summary for item in values))
    return ", ".join(parts)
