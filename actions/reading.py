"""What a message does to the answers, as Rasa events: answers, corrections, doubts, facts given before the start.

Shared by the form's validation (actions/forms.py) and the actions that work outside the form
(actions/corrections.py). The reading itself is plain Python (bot.diagnostic.answers, .corrections);
this module turns it into slot events and the one-line confirmations the user reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import DOUBT_SLOT, TYPED_MAX_CHARS, TYPED_SLOT, questionnaire
from bot.diagnostic.answers import ANSWER_PAYLOAD_INTENT, Answer, interpret, summarise
from bot.diagnostic.corrections import CHANGE_INTENT, Correction, read_before_start, read_correction
from bot.diagnostic.questionnaire import Question, Questionnaire

SESSION_START_EVENTS = ("session_started", "restart")


def typed_answers(tracker: Tracker, answered: list[str], text: str | None) -> SlotSet:
    """The slot of free-text answers, with ``text`` for the questions it answered (``None``: a button, whose
    answers replace what had been typed for those questions)."""
    typed = dict(tracker.get_slot(TYPED_SLOT) or {})
    for question_id in answered:
        if text:
            typed[question_id] = text[:TYPED_MAX_CHARS]
        else:
            typed.pop(question_id, None)
    return SlotSet(TYPED_SLOT, typed)


def answer_events(tracker: Tracker, answers: Mapping[str, Answer], text: str | None) -> list[EventType]:
    """The slots of ``answers``, and what was typed for them (``text`` None for a button)."""
    return [*(SlotSet(question_id, value) for question_id, value in answers.items()),
            typed_answers(tracker, list(answers), text)]


def doubt_events(question_id: str, options: tuple[str, ...]) -> list[EventType]:
    """Ask « Vous voulez dire : … ? » instead of storing: the question is asked again with these options."""
    return [SlotSet(DOUBT_SLOT, {"question": question_id, "options": list(options)}), SlotSet(question_id, None)]


def user_messages_of_this_session(tracker: Tracker) -> list[Mapping[str, Any]]:
    """The parses of the user's messages since the session started, oldest first."""
    parses: list[Mapping[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") in SESSION_START_EVENTS:
            break
        if event.get("event") == "user" and isinstance(event.get("parse_data"), Mapping):
            parses.append({**event["parse_data"], "text": event.get("text") or event["parse_data"].get("text")})
    return list(reversed(parses))


def facts_given_before_the_start(survey: Questionnaire, tracker: Tracker) -> tuple[dict[str, Answer], str | None]:
    """What the messages before the questionnaire said about the user (« on est une asso de quartier »), the
    latest message winning, and the text of the message that said the most (kept as typed words)."""
    answers: dict[str, Answer] = {}
    best_text, best_count = None, 0
    for parse in user_messages_of_this_session(tracker):
        facts = read_before_start(survey, parse)
        answers.update(facts)
        if len(facts) > best_count:
            best_text, best_count = parse.get("text"), len(facts)
    return answers, best_text


def activation_events(dispatcher: CollectingDispatcher, tracker: Tracker, answered: Mapping[str, Any]) -> list[EventType]:
    """The form starts: an older button changes its answer; on a fresh start, the facts given before it are kept."""
    survey = questionnaire()
    parse = tracker.latest_message or {}
    if (parse.get("intent") or {}).get("name") == ANSWER_PAYLOAD_INTENT:
        reading = interpret(survey, parse, None, answered)
        if not reading.answers or all(answered.get(key) == value for key, value in reading.answers.items()):
            return []
        dispatcher.utter_message(response="utter_answer_changed", summary=summarise(survey, reading.answers))
        return answer_events(tracker, reading.answers, None)
    if answered:
        return []  # a diagnostic already under way: only what is asked is read from now on
    facts, text = facts_given_before_the_start(survey, tracker)
    if not facts:
        return []
    dispatcher.utter_message(response="utter_answers_understood", summary=summarise(survey, facts))
    return answer_events(tracker, facts, text)


def question_buttons_to_change(survey: Questionnaire, answered: Mapping[str, Any]) -> list[dict[str, str]]:
    """One button per answered question, to change its answer."""
    return [{"title": short_name(question), "payload": f'/change_answer{{"question_id": "{question.id}"}}'}
            for question in survey.questions if question.id in answered]


def short_name(question: Question) -> str:
    name = question.names[0] if question.names else question.id
    return name[:1].upper() + name[1:]


def question_to_change(survey: Questionnaire, parse: Mapping[str, Any]) -> str | None:
    """The question a « change_answer » names: its button's entity, else the words of the message."""
    for entity in parse.get("entities") or []:
        if entity.get("entity") == "question_id" and survey.has_question(str(entity.get("value"))):
            return str(entity["value"])
    named = survey.named_in(parse.get("text") or "")
    return named[0].id if named else None


def correction_events(dispatcher: CollectingDispatcher, tracker: Tracker, answered: Mapping[str, Any]) -> list[EventType]:
    """A correction in words (« non, on est une collectivité », « je me suis trompé sur la taille »).

    New values replace the old ones and are confirmed in one line; a question named without its new value
    is emptied, so that the questionnaire asks it again; an uncertain value is asked as a doubt; nothing at
    all gets a list of the answers to choose from.
    """
    survey = questionnaire()
    parse = tracker.latest_message or {}
    intent = (parse.get("intent") or {}).get("name")
    correction = Correction(question=question_to_change(survey, parse)) if intent == CHANGE_INTENT \
        else read_correction(survey, parse, answered)
    if correction.answers:
        dispatcher.utter_message(response="utter_answer_corrected", summary=summarise(survey, correction.answers))
        return answer_events(tracker, correction.answers, parse.get("text"))
    if correction.doubts:
        question_id, options = next(iter(correction.doubts.items()))
        return doubt_events(question_id, options)
    if correction.question is not None:
        question = survey.question(correction.question)
        dispatcher.utter_message(response="utter_change_question", question=short_name(question).lower())
        return [SlotSet(question.id, None)]
    dispatcher.utter_message(response="utter_which_answer", buttons=question_buttons_to_change(survey, answered))
    return []
