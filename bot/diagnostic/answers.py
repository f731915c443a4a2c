"""Reading a user's message as answers to the questionnaire, and knowing when to ask rather than guess.

The NLU (Rasa) gives an intent ranking and entities; this module turns them into option ids, in the
context of the question being asked:

* a button payload (intent ``answer``) is taken as it is, if its question and option exist (a forged
  one is refused and nothing is stored);
* an exact option label typed by hand is taken as it is;
* profile entities (actor type, size, scale, theme, read by :mod:`bot.diagnostic.entities`) may answer
  several questions in one message (« une asso de quartier, que des bénévoles »); a head-count
  (« on est 15 salariés ») gives the size;
* partner-type entities answer the two « partners » questions when asked;
* « non » to a yes/no-like scored question means its lowest option;
* for the sentence-level questions, each option has its intent ``inform_<question>_<option>``; the
  best-ranked option *of the question asked* wins, so « pas encore » means ``aucun`` or ``non``
  depending on the question.

**Doubt is asked, never stored.** When the reading is not sure (two options close in the ranking, two
values named without one preferred, an actor type guessed from a head count, a reading that
contradicts the message: « 80 agents » with « une entreprise »), the question gets no answer but a
list of likely options (:attr:`Interpretation.doubts`), which the assistant offers as « Vous voulez
dire : … ? ».

No Rasa import: the parse is the plain dict Rasa puts in ``latest_message``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.diagnostic.entities import (
    PARTNER_ENTITY,
    SIZE_SUGGESTS_COMPANY,
    Mention,
    choose,
    for_question,
    mentions,
    size_from_headcount,
    speaks_of_public_staff,
    values_of,
)
from bot.diagnostic.nearest import nearest_examples
from bot.diagnostic.places import places
from bot.diagnostic.questionnaire import NSP, Question, Questionnaire
from bot.diagnostic.text import normalise

__all__ = ["Interpretation", "interpret", "is_answering_intent", "normalise", "size_from_headcount", "summarise"]

ANSWER_PAYLOAD_INTENT = "answer"
DONT_KNOW_INTENT = "dont_know"
PROFILE_ENTITY_QUESTIONS = {"actor_type": "actor_type", "size": "size", "scale": "scale", "theme": "theme"}
PARTNER_QUESTIONS = ("partners", "partners_wanted")
ALL_PARTNERS_OPTION = "tous"
OPTION_INTENT_PREFIX = "inform_"
# Intents under which a message may carry an answer; any other intent (why, back, doors, chit-chat…) is
# an interruption handled by the dialogue rules.
# A correction (« non, on est une collectivité ») and a request to change an answer are read by the same code.
ANSWERING_INTENTS = frozenset({ANSWER_PAYLOAD_INTENT, DONT_KNOW_INTENT, "inform", "affirm", "deny", "nlu_fallback",
                               "correct", "change_answer"})
DENY_INTENT = "deny"
# The option intents of the asked question: below MIN_OPTION_CONFIDENCE the best one is no reading at all;
# it is an answer when it has CONFIDENT_SHARE of the confidence its question's options get together and
# leads the next one by CONFIDENT_LEAD; in between, the two or three best are offered.
MIN_OPTION_CONFIDENCE = 0.05
CONFIDENT_SHARE = 0.6
CONFIDENT_LEAD = 2.0
MAX_CANDIDATES = 3
# The closest training example (bot.diagnostic.nearest), when DIET gives no option: an answer from this
# similarity with this lead over the next option; a doubt from NEAREST_DOUBT.
NEAREST_SURE = 0.55
NEAREST_LEAD = 0.2
NEAREST_DOUBT = 0.3
# What an actor could be when only a head count is known.
ACTOR_CANDIDATES = ("entreprise", "association", "collectivite")
# « on est le DLA »: a support structure is, for the support question, one that accompanies others.
SUPPORT_STRUCTURE = "accompagnement"
SUPPORTING_OTHERS = "accompagnateur"
PUBLIC_ACTOR = "collectivite"
COMPANY = "entreprise"

Answer = str | list[str]
_DONT_KNOW_WORDS = (
    "je ne sais pas", "je sais pas", "je peux pas repondre", "je ne peux pas repondre", "je saurais pas",
    "je ne saurais pas", "pas en mesure de repondre", "aucune idee", "je demande", "faut que je demande",
    "faudrait que je demande", "je dois demander", "je verifie", "j sais pas", "jsais pas", "sais pas", "chais pas", "jsp", "aucune idee",
    "pas d idee", "je ne suis pas sur", "pas sure", "pas sur", "pas certaine", "pas certain", "difficile a dire",
    "bonne question", "je n en sais rien", "aucun avis",
)


@dataclass(frozen=True)
class Interpretation:
    """What a message says about the questionnaire."""

    answers: dict[str, Answer] = field(default_factory=dict)
    #: question id -> the likely options, when the message seems to answer it but not surely enough to store
    doubts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: question id -> how it was read (payload, label, entity, headcount, intent…), for the reports
    how: dict[str, str] = field(default_factory=dict)
    # True when the message was a questionnaire button whose question or option does not exist.
    forged_payload: bool = False

    def answers_question(self, question_id: str | None) -> bool:
        return question_id is not None and question_id in self.answers


def is_answering_intent(intent: str | None) -> bool:
    """True when a message with this intent should be read as an answer."""
    return intent is not None and (intent in ANSWERING_INTENTS or intent.startswith(OPTION_INTENT_PREFIX))


def _intent_name(parse: Mapping[str, Any]) -> str | None:
    intent = parse.get("intent") or {}
    return intent.get("name")


def _payload_answer(questionnaire: Questionnaire, parse: Mapping[str, Any]) -> Interpretation:
    entities = parse.get("entities") or []
    question_ids = list(dict.fromkeys(e.get("value") for e in entities if e.get("entity") == "question_id"))
    choices = list(dict.fromkeys(e.get("value") for e in entities if e.get("entity") == "choice"))
    if len(question_ids) != 1 or len(choices) != 1:
        return Interpretation(forged_payload=True)
    question_id, choice = question_ids[0], choices[0]
    if not isinstance(question_id, str) or not questionnaire.is_valid_answer(question_id, choice):
        return Interpretation(forged_payload=True)
    return Interpretation(answers={question_id: choice}, how={question_id: "payload"})


def _label_match(question: Question, text: str) -> str | None:
    typed = normalise(text)
    for option in question.choices:
        if typed in (normalise(option.label), normalise(option.id)):
            return option.id
    return None


def _lowest_option(question: Question) -> str | None:
    """The option a plain « non » stands for on a scored question (its lowest score)."""
    if not question.scored:
        return None
    return min(question.options, key=lambda option: option.score or 0).id


def _valid(question: Question, values: Sequence[Mention]) -> list[Mention]:
    allowed = set(question.option_ids) | set(question.multi.choices if question.multi else ())
    return [mention for mention in values if mention.value in allowed]


def _partner_answer(question: Question, values: Sequence[Mention]) -> tuple[Answer | None, tuple[str, ...]]:
    named = list(dict.fromkeys(mention.value for mention in _valid(question, values)))
    if not named:
        return None, ()
    if len(named) == 1:
        return named[0], ()
    if question.multi is not None:
        return [choice for choice in question.multi.choices if choice in named], ()  # canonical order
    if ALL_PARTNERS_OPTION in question.option_ids and len(named) >= 3:
        return ALL_PARTNERS_OPTION, ()
    return None, tuple(dict.fromkeys([*named, ALL_PARTNERS_OPTION]))  # two types wished: which one, or both?


# Options that mean « nothing yet » in every scored question: « pas encore » read as « no experience » also
# answers « do you evaluate? » with « non ».
NOTHING_OPTIONS = frozenset({"aucun", "non"})


def option_ranking(questionnaire: Questionnaire, question: Question, parse: Mapping[str, Any]) -> list[tuple[float, str]]:
    """(confidence, option id) of the question's options, best first, from its own option intents; and, when
    the message's top intent is the « nothing yet » option of another question (« jamais », « pas encore »),
    this question's « nothing yet » option at that confidence."""
    ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
    scores: dict[str, float] = {}
    own = f"{OPTION_INTENT_PREFIX}{question.id}_"
    for entry in ranking:
        name, confidence = entry.get("name") or "", float(entry.get("confidence") or 0.0)
        if name.startswith(own) and name[len(own):] in question.option_ids:
            scores[name[len(own):]] = scores.get(name[len(own):], 0.0) + confidence
    top = (parse.get("intent") or {}).get("name") or ""
    nothing = _nothing_option(question)
    if nothing is not None and not top.startswith(own) and _means_nothing(questionnaire, top):
        confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
        scores[nothing] = max(scores.get(nothing, 0.0), confidence)
    return sorted(((confidence, option_id) for option_id, confidence in scores.items()), reverse=True)


def _nothing_option(question: Question) -> str | None:
    lowest = _lowest_option(question)
    return lowest if lowest in NOTHING_OPTIONS else None


def _means_nothing(questionnaire: Questionnaire, intent: str) -> bool:
    """True for ``inform_<question>_<aucun|non>`` of any scored question."""
    for other in questionnaire.questions:
        prefix = f"{OPTION_INTENT_PREFIX}{other.id}_"
        if intent.startswith(prefix):
            option_id = intent[len(prefix):]
            return option_id in NOTHING_OPTIONS and option_id == _lowest_option(other)
    return False


def _option_by_example(question: Question, text: str) -> tuple[str | None, tuple[str, ...]]:
    """The option whose training example is closest to the message (:mod:`bot.diagnostic.nearest`), when it is
    close and clearly closer than any other option's; else the closest options as a doubt, or nothing."""
    ranked = [(similarity, option) for similarity, option in nearest_examples().ranking(question.id, text)
              if option in question.option_ids]
    if not ranked or ranked[0][0] < NEAREST_DOUBT:
        return None, ()
    best, option_id = ranked[0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    if best >= NEAREST_SURE and best - second >= NEAREST_LEAD:
        return option_id, ()
    # The closest options, at least two (a doubt offers a choice), those close enough beyond.
    return None, tuple(option for index, (similarity, option) in enumerate(ranked[:MAX_CANDIDATES])
                       if index < 2 or similarity >= NEAREST_DOUBT)


def _option_by_intent(questionnaire: Questionnaire, question: Question,
                      parse: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """The option the intents give, or (None, the likely options) when they do not agree enough."""
    ranked = option_ranking(questionnaire, question, parse)
    if not ranked or ranked[0][0] < MIN_OPTION_CONFIDENCE:
        return None, ()
    best, option_id = ranked[0]
    total = sum(confidence for confidence, _ in ranked)
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    if best >= CONFIDENT_SHARE * total and best >= CONFIDENT_LEAD * second:
        return option_id, ()
    return None, tuple(option for _, option in ranked[:MAX_CANDIDATES])


def _actor_from_size(found: Sequence[Mention], text: str) -> tuple[str | None, tuple[str, ...]]:
    """« une pme » is a company, « 80 agents » a public body; « 15 salariés » could be either: ask."""
    sizes = values_of(found, "size")
    if speaks_of_public_staff(text):
        return PUBLIC_ACTOR, ()
    if any(mention.value in SIZE_SUGGESTS_COMPANY and not mention.is_count for mention in sizes):
        return COMPANY, ()
    if sizes or size_from_headcount(text):
        return None, ACTOR_CANDIDATES
    return None, ()


_NUMBER_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
                 "dix": 10, "douze": 12, "quinze": 15, "dix huit": 18, "vingt": 20, "trente": 30}
_DURATION = re.compile(rf"\b(\d+|{'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))})"
                       rf"(?:\s*(?:a|-)\s*(?:\d+|{'|'.join(_NUMBER_WORDS)}))?\s*(ans?|annees?|mois)\b")
_YEAR = re.compile(r"\b(?:horizon|d ici|en|pour|vers|avant|jusqu en)\s+(20[2-9]\d)\b")
# Horizon options by years: up to a year, two or three years, more.
HORIZON_BY_YEARS = ((1.0, "court"), (3.5, "moyen"), (float("inf"), "long"))


def horizon_from_duration(text: str, this_year: int | None = None) -> str | None:
    """« sur 24 mois » → ``moyen``, « pour les 5 à 10 ans qui viennent » → ``long``, « à horizon 2035 » → ``long``;
    None without a duration."""
    typed = normalise(text)
    year = _YEAR.search(typed)
    if year:
        years = int(year.group(1)) - (this_year or date.today().year)
        return next(option for limit, option in HORIZON_BY_YEARS if years <= limit) if years >= 0 else None
    match = _DURATION.search(typed)
    if not match:
        return None
    number = int(match.group(1)) if match.group(1).isdigit() else _NUMBER_WORDS[match.group(1)]
    years = number / 12 if match.group(2).startswith("mois") else float(number)
    return next(option for limit, option in HORIZON_BY_YEARS if years <= limit)


def _own_option_is_sure(question: Question, parse: Mapping[str, Any]) -> bool:
    """DIET's top intent is an option of this very question, with a clear confidence."""
    intent = parse.get("intent") or {}
    return str(intent.get("name") or "").startswith(f"{OPTION_INTENT_PREFIX}{question.id}_") and \
        float(intent.get("confidence") or 0.0) >= CONFIDENT_SHARE


_WE_ARE_A = re.compile(r"\b(?:on est|nous sommes|c est nous|on est nous memes?|nous sommes nous memes?)"
                       r"(?: nous memes?)? (?:un|une|le|la|l)? ?$")


def _is_a_support_structure(found: Sequence[Mention], text: str) -> bool:
    """« on est le DLA », « nous sommes une structure d'accompagnement »: the user IS a support structure."""
    padded = f" {normalise(text)} "
    return any(mention.value == SUPPORT_STRUCTURE and _WE_ARE_A.search(padded[: mention.at].rstrip())
               for mention in values_of(found, "actor_type"))


def _dont_know(text: str) -> bool:
    padded = f" {normalise(text)} "
    return any(f" {words} " in padded for words in _DONT_KNOW_WORDS)


def interpret(
    questionnaire: Questionnaire,
    parse: Mapping[str, Any],
    asked: str | None,
    answered: Mapping[str, Any] | None = None,
) -> Interpretation:
    """Read ``parse`` (Rasa's parse of one message) while question ``asked`` is pending.

    Only the asked question and profile questions not answered yet are filled: a passing remark never
    overwrites an earlier answer. ``asked`` is None when the questionnaire is not running (only profile
    facts are read then).
    """
    answered = answered or {}
    intent = _intent_name(parse)
    if intent == ANSWER_PAYLOAD_INTENT:
        return _payload_answer(questionnaire, parse)
    question = questionnaire.question(asked) if asked and questionnaire.has_question(asked) else None
    text = parse.get("text") or ""
    if question is not None:
        if intent == DONT_KNOW_INTENT:
            return Interpretation(answers={question.id: NSP}, how={question.id: "dont_know"})
        typed_option = _label_match(question, text)
        if typed_option is not None:
            return Interpretation(answers={question.id: typed_option}, how={question.id: "label"})
    reading = _Reading(questionnaire, question, answered, text, mentions(parse))
    reading.profile_facts()
    if question is not None and question.id not in reading.answers and question.id not in reading.doubts:
        reading.asked_question(intent, parse)
    return Interpretation(answers=reading.answers, doubts=reading.doubts, how=reading.how)


@dataclass
class _Reading:
    """The answers of one message, built question by question."""

    questionnaire: Questionnaire
    question: Question | None
    answered: Mapping[str, Any]
    text: str
    found: list[Mention]
    answers: dict[str, Answer] = field(default_factory=dict)
    doubts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)

    @property
    def asked(self) -> str | None:
        return self.question.id if self.question is not None else None

    def may_fill(self, question_id: str) -> bool:
        return question_id == self.asked or (question_id not in self.answered and question_id not in self.answers)

    def store(self, question_id: str, value: Answer, how: str) -> None:
        if self.may_fill(question_id) and self.questionnaire.is_valid_answer(question_id, value):
            self.answers[question_id] = value
            self.how[question_id] = how

    def doubt(self, question_id: str, candidates: Sequence[str]) -> None:
        """Offer the candidates for the asked question only (a passing remark is simply not read)."""
        question = self.questionnaire.question(question_id)
        valid = tuple(option for option in candidates if option in question.option_ids)
        if question_id == self.asked and len(valid) >= 2:
            self.doubts[question_id] = valid[:MAX_CANDIDATES]

    def profile_facts(self) -> None:
        size = size_from_headcount(self.text, bare_number_allowed=self.asked == "size")
        if size:
            self.store("size", size, "headcount")
        for entity_type, question_id in PROFILE_ENTITY_QUESTIONS.items():
            if question_id in self.answers:
                continue
            if question_id == self.asked:
                values = for_question(self.found, question_id, entity_type)
            else:
                values = values_of(self.found, entity_type, diet_only=True)  # passing remarks: what DIET is sure of
            value, candidates = choose(_valid(self.questionnaire.question(question_id), values), self.text)
            if value is not None:
                self.store(question_id, value, "entity")
            elif candidates:
                self.doubt(question_id, candidates)
        if self.asked == "scale" and "scale" not in self.answers and "scale" not in self.doubts:
            scale = places().scale_in(self.text)
            if scale:
                self.store("scale", scale, "place")
        if self.asked in PROFILE_ENTITY_QUESTIONS and self.asked not in self.answers and self.asked not in self.doubts \
                and not (self.asked == "size" and self.answers.get("size")):
            self.by_example(self.asked)
        if self.asked == "actor_type" and "actor_type" not in self.answers and "actor_type" not in self.doubts:
            value, candidates = _actor_from_size(self.found, self.text)
            if value is not None:
                self.store("actor_type", value, "size_word")
            elif candidates:
                self.doubt("actor_type", candidates)
        self.check_contradictions()

    def by_example(self, question_id: str) -> None:
        """The closest training example, when neither DIET nor the gazetteer found the answer."""
        if question_id == "actor_type" and values_of(self.found, "size"):
            return  # a size alone is read below (« une pme », « 15 salariés »)
        option_id, candidates = _option_by_example(self.questionnaire.question(question_id), self.text)
        if option_id is not None:
            self.store(question_id, option_id, "example")
        elif candidates:
            self.doubt(question_id, candidates)

    def check_contradictions(self) -> None:
        """A company counted in « agents »: the two readings cannot both be right, so ask."""
        actor = self.answers.get("actor_type") or self.answered.get("actor_type")
        if actor == COMPANY and speaks_of_public_staff(self.text) and self.asked in ("actor_type", "size"):
            self.answers.pop("actor_type", None)
            self.doubts["actor_type"] = (PUBLIC_ACTOR, COMPANY)

    def asked_question(self, intent: str | None, parse: Mapping[str, Any]) -> None:
        question = self.question
        if question is None:
            return
        if question.id in PARTNER_QUESTIONS:
            value, candidates = _partner_answer(question, for_question(self.found, question.id, PARTNER_ENTITY))
            if value is not None:
                self.store(question.id, value, "entity")
                return
            if candidates:
                self.doubt(question.id, candidates)
                return
        if question.id == "horizon" and horizon_from_duration(self.text):
            self.store(question.id, horizon_from_duration(self.text) or "", "duration")
            return
        if intent == DENY_INTENT and _lowest_option(question) is not None:
            self.store(question.id, _lowest_option(question) or "", "deny")
            return
        option_id, candidates = _option_by_intent(self.questionnaire, question, parse)
        if _dont_know(self.text) and not _own_option_is_sure(question, parse):
            self.store(question.id, NSP, "dont_know")  # « aucune idée » is not « aucun partenaire »
            return
        if option_id is not None:
            self.store(question.id, option_id, "intent")
            return
        if question.id == "support" and _is_a_support_structure(self.found, self.text):
            self.store(question.id, SUPPORTING_OTHERS, "actor")  # « on est le DLA du département »
            return
        example_option, example_candidates = _option_by_example(question, self.text)
        if example_option is not None and (not candidates or example_option in candidates):
            self.store(question.id, example_option, "example")
        elif candidates or example_candidates:
            self.doubt(question.id, list(dict.fromkeys([*candidates, *example_candidates])))


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
