"""The questionnaire form: reading answers, asking questions, and the in-form commands.

The form ``diagnostic_form`` (domain.yml) lists the 13 question slots. Rasa asks
a question by running ``action_ask_<question id>`` and reads each reply through
``validate_diagnostic_form``. Messages that are not answers (why, back, doors,
chit-chat…) are refused by the validation so that the dialogue rules handle
them, after which the form asks the same question again.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channel import progress_message
from actions.context import (
    DOUBT_SLOT,
    FORM_NAME,
    MAX_CONVERSATION_ID,
    MISUNDERSTOOD_SLOT,
    PREVIOUS_SLOT,
    REQUESTED_SLOT,
    answers_from,
    asked_question,
    in_thread,
    questionnaire,
)
from actions.knowledge import answer_in_general
from actions.reading import activation_events, answer_events, correction_events, doubt_events
from actions.workshops import welcome, workshop_typed_alone
from bot.diagnostic.answers import ANSWER_PAYLOAD_INTENT, interpret, is_answering_intent, summarise
from bot.diagnostic.corrections import CHANGE_INTENT, CORRECT_INTENT, read_correction, sounds_like_a_correction
from bot.diagnostic.questionnaire import Question
from bot.diagnostic.text import normalise
from bot.store import diagnostics

# The form's slots, in order. A unit test checks that this equals the questionnaire
# ids and the form's required_slots in domain.yml (Rasa needs one ask action per slot).
QUESTION_IDS = (
    "actor_type", "size", "scale", "theme",
    "experience", "partners", "organisation", "evaluation",
    "resources", "support",
    "goal", "partners_wanted", "horizon",
)  # fmt: skip


def answer_payload(question_id: str, option_id: str) -> str:
    """The public button payload of an answer (a contract with integrators and tests)."""
    return f'/answer{{"question_id": "{question_id}", "choice": "{option_id}"}}'


def question_buttons(question: Question) -> list[dict[str, str]]:
    buttons = [{"title": option.label, "payload": answer_payload(question.id, option.id)} for option in question.choices]
    buttons.append({"title": "Pourquoi cette question ?", "payload": "/why_question"})
    return buttons


# « pourquoi faire alliance ? », « à quoi ça sert un partenariat ? »: a question about alliances, not about a question.
ABOUT_ALLIANCES = re.compile(r"\b(?:alliances?|allier|allie|partenariats?|partenaires?|cooperer|cooperation|coalitions?)\b")


def doubt_text(question: Question, options: list[str]) -> str:
    """« Vous voulez dire : des partenariats ponctuels, ou une habitude ? »"""
    labels = [question.option(option).label.lower() for option in options]
    listed = ", ".join(labels[:-1]) + " ou " + labels[-1]
    return f"Je ne suis pas sûr d'avoir compris. Vous voulez dire : {listed} ?"


def doubt_buttons(question: Question, options: list[str]) -> list[dict[str, str]]:
    """The likely options, then the way back to every option."""
    buttons = [{"title": question.option(option).label, "payload": answer_payload(question.id, option)}
               for option in options]
    buttons.append({"title": "Aucune de ces réponses", "payload": "/continue"})
    return buttons


def _message_already_handled(tracker: Tracker) -> bool:
    """True when the latest user message was an interruption already answered by a rule.

    The form is then only coming back to its question: the message must not be
    read a second time as an answer.
    """
    events = tracker.events
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        # Only this form's refusal: a message the feedback form refused (an answer button after the result)
        # is still to be read here.
        if event.get("event") == "action_execution_rejected" and event.get("name") == FORM_NAME:
            return True
    return False


class AskQuestion:
    """Asks one question: « Question n/13 », the text and its buttons.

    Not an ``Action`` itself (the SDK would register it without a question):
    the concrete actions below add ``Action`` and their ``question_id``.
    """

    question_id: ClassVar[str]

    def name(self) -> str:
        return f"action_ask_{self.question_id}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        survey = questionnaire()
        question = survey.question(self.question_id)
        position = survey.position(question.id)
        doubt = tracker.get_slot(DOUBT_SLOT) or {}
        options = [option for option in doubt.get("options") or [] if option in question.option_ids] \
            if doubt.get("question") == question.id else []
        if len(options) >= 2:
            dispatcher.utter_message(text=doubt_text(question, options), buttons=doubt_buttons(question, options))
        else:
            dispatcher.utter_message(
                text=f"Question {position}/{survey.total} — {question.text}", buttons=question_buttons(question)
            )
        dispatcher.utter_message(json_message=progress_message(position, survey.total))
        await in_thread(diagnostics.record_progress, tracker.sender_id, answers_from(tracker), question.id)
        return [SlotSet(DOUBT_SLOT, None)] if doubt else []


# One ask action per question (Rasa finds them by name: action_ask_<slot>).
ASK_ACTIONS = tuple(
    type(f"AskQuestion_{question_id}", (AskQuestion, Action), {"question_id": question_id})
    for question_id in QUESTION_IDS
)


class ValidateDiagnosticForm(Action):
    """Reads the latest message as answers: the asked question, and profile facts given in passing."""

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if _message_already_handled(tracker):
            return []
        survey = questionnaire()
        parse = tracker.latest_message or {}
        intent = (parse.get("intent") or {}).get("name")
        answered = answers_from(tracker)
        asked = asked_question(tracker)

        # The code of an open workshop typed alone, when the NLU read it as an answer (it may start the form):
        # join, then the same question (or the first one).
        workshop = await workshop_typed_alone(parse.get("text"))
        if workshop is not None:
            await welcome(dispatcher, tracker, workshop)
            return [SlotSet(asked, None)] if asked else []

        if asked is None:
            return activation_events(dispatcher, tracker, answered)
        text = parse.get("text") or ""
        if intent in (CORRECT_INTENT, CHANGE_INTENT) or (
            intent != ANSWER_PAYLOAD_INTENT and is_answering_intent(intent) and sounds_like_a_correction(text)
            and read_correction(survey, parse, answered).answers
        ):
            return [*correction_events(dispatcher, tracker, answered), SlotSet(asked, None)]

        if not is_answering_intent(intent):
            return []  # an interruption: the form refuses it and a rule answers it

        reading = interpret(survey, parse, asked, answered)
        if reading.forged_payload:
            dispatcher.utter_message(response="utter_invalid_choice")
            return [SlotSet(asked, None)]
        events: list[EventType] = []
        if reading.answers:
            clicked_the_asked_question = intent == ANSWER_PAYLOAD_INTENT and set(reading.answers) == {asked}
            if not clicked_the_asked_question:
                response = "utter_answer_changed" if intent == ANSWER_PAYLOAD_INTENT else "utter_answers_understood"
                dispatcher.utter_message(response=response, summary=summarise(survey, reading.answers))
            events += answer_events(tracker, reading.answers,
                                    None if intent == ANSWER_PAYLOAD_INTENT else parse.get("text"))
        if asked in reading.doubts:
            return [*events, *doubt_events(asked, reading.doubts[asked]), SlotSet(MISUNDERSTOOD_SLOT, 0)]
        if not reading.answers:
            failures = int(tracker.get_slot(MISUNDERSTOOD_SLOT) or 0)
            dispatcher.utter_message(response="utter_not_understood_again" if failures else "utter_not_understood_answer")
            return [SlotSet(asked, None), SlotSet(MISUNDERSTOOD_SLOT, failures + 1)]
        if asked not in reading.answers:
            events.append(SlotSet(asked, None))
        events.append(SlotSet(MISUNDERSTOOD_SLOT, 0))
        return events


class ExplainQuestion(Action):
    """« Pourquoi cette question ? »: why the asked question matters."""

    def name(self) -> str:
        return "action_explain_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        asked = asked_question(tracker)
        if asked is None:
            text = (tracker.latest_message or {}).get("text") or ""
            if ABOUT_ALLIANCES.search(normalise(text)):
                return answer_in_general(dispatcher, text)  # « pourquoi faire alliance ? » is not about a question
            dispatcher.utter_message(response="utter_no_question")
            return []
        dispatcher.utter_message(response="utter_why_intro", why=questionnaire().question(asked).why)
        return []


class GoBack(Action):
    """« Revenir à la question précédente »: forget the previous answer so the form asks it again."""

    def name(self) -> str:
        return "action_go_back"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        survey = questionnaire()
        asked = asked_question(tracker)
        previous = survey.previous(asked) if asked else None
        if previous is None:
            dispatcher.utter_message(response="utter_back_first")
            return []
        dispatcher.utter_message(response="utter_back_done")
        return [SlotSet(previous.id, None), SlotSet(REQUESTED_SLOT, None), SlotSet(MISUNDERSTOOD_SLOT, 0)]


class RestartDiagnostic(Action):
    """« Recommencer »: every answer forgotten, the diagnostic in progress closed.

    It also starts a new Rasa session: Rasa reloads and replays the whole session
    on every turn, so without this each new diagnostic in the same conversation
    would be slower than the last (measured in bench/). Finished diagnostics stay
    in the project database; the form is then started as a follow-up.
    """

    def name(self) -> str:
        return "action_restart_diagnostic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        await in_thread(diagnostics.abandon, tracker.sender_id)
        dispatcher.utter_message(response="utter_restarted")
        # From a report's « Refaire le diagnostic »: the new result is compared with that report's.
        compared = next((entity.get("value") for entity in (tracker.latest_message or {}).get("entities") or []
                         if entity.get("entity") == PREVIOUS_SLOT), None)
        events: list[EventType] = [SessionStarted()]
        if isinstance(compared, str) and 0 < len(compared) <= MAX_CONVERSATION_ID:
            events.append(SlotSet(PREVIOUS_SLOT, compared))
        return [*events, FollowupAction(FORM_NAME)]


class StopDiagnostic(Action):
    """« Arrêter »: pause the questionnaire; the answers stay for a later « reprendre »."""

    def name(self) -> str:
        return "action_stop_diagnostic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_stopped", answered=len(answers_from(tracker)), total=questionnaire().total
        )
        dispatcher.utter_message(json_message=progress_message(None))
        return [SlotSet(REQUESTED_SLOT, None), SlotSet(MISUNDERSTOOD_SLOT, 0)]
