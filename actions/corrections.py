"""Changing answers outside the form, the recap before the result, and « continuer ».

- ``action_recap``: after the 13th answer, one message lists the answers with « C'est bon, voir mon
  résultat » and « Modifier une réponse » (skipped when ``RECAP_BEFORE_RESULT`` is off, or when the result
  was already shown and is being computed again after a correction: the result then comes at once);
- ``action_correct_answer``: a correction in words outside the form (during the recap, after the result):
  new values are set and the result computed again, a named question is asked again;
- ``action_change_answer``: « modifier ma réponse sur la taille », or its button: that question is asked
  again, then the questionnaire goes on;
- ``action_continue``: « continuer », « suivant »: back to the question, or to the questionnaire.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.context import FORM_NAME, RESULT_SHOWN_SLOT, answers_from, asked_question, in_thread, questionnaire
from actions.feedback import FEEDBACK_FORM
from actions.reading import correction_events, short_name
from actions.results import present_result
from bot.diagnostic.answers import summarise
from bot.settings import get_settings
from bot.store import diagnostics

RECAP = "action_recap"
RECAP_BUTTONS = [
    {"title": "C'est bon, voir mon résultat", "payload": "/confirm_result"},
    {"title": "Modifier une réponse", "payload": "/change_answer"},
]


def recap_text(answers: dict[str, Any]) -> str:
    """The answers, one short line per question (13 at most)."""
    survey = questionnaire()
    lines = ["Avant votre résultat, voici vos réponses :"]
    for question in survey.questions:
        if question.id in answers:
            lines.append(f"- {short_name(question)} : {summarise(survey, {question.id: answers[question.id]})}")
    return "\n".join(lines)


def answers_after(tracker: Tracker, events: list[EventType]) -> dict[str, Any]:
    """The answers as they will be once ``events`` (slot changes of this action) are applied."""
    answers = answers_from(tracker)
    for event in events:
        name = event.get("name") if isinstance(event, dict) and event.get("event") == "slot" else None
        if name is not None and questionnaire().has_question(str(name)):
            if event.get("value") is None:
                answers.pop(name, None)
            else:
                answers[name] = event["value"]
    return answers


async def next_step(dispatcher: CollectingDispatcher, tracker: Tracker, events: list[EventType]) -> list[EventType]:
    """After a change outside the form: the questionnaire if a question is now empty, else the recap, or the
    result computed again if it had already been shown."""
    answers = answers_after(tracker, events)
    if len(answers) < questionnaire().total:
        return [*events, FollowupAction(FORM_NAME)]
    return [*events, *await recap_or_result(dispatcher, tracker, answers)]


async def recap_or_result(dispatcher: CollectingDispatcher, tracker: Tracker, answers: dict[str, Any]) -> list[EventType]:
    """The recap, unless it is switched off or the result was already shown (then the result, at once)."""
    if tracker.get_slot(RESULT_SHOWN_SLOT):
        return await present_result(dispatcher, tracker, answers)
    if not get_settings().recap_before_result:
        # No recap: the first result comes at once, then whether it is useful (the rule after the recap's
        # « C'est bon » is not there to ask it).
        return [*await present_result(dispatcher, tracker, answers), FollowupAction(FEEDBACK_FORM)]
    await in_thread(diagnostics.record_progress, tracker.sender_id, answers, None)  # every answer, none asked
    dispatcher.utter_message(text=recap_text(answers), buttons=RECAP_BUTTONS)
    return []


class Recap(Action):
    """The answers before the result, with a way to change any of them."""

    def name(self) -> str:
        return RECAP

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return await recap_or_result(dispatcher, tracker, answers_from(tracker))


class CorrectAnswer(Action):
    """A correction in words outside the questionnaire (« non, on est une collectivité »)."""

    def name(self) -> str:
        return "action_correct_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answered = answers_from(tracker)
        if not answered:
            return [FollowupAction(FORM_NAME)]  # nothing to correct yet: the questionnaire starts and keeps it
        events = correction_events(dispatcher, tracker, answered)
        if not events:
            return []  # « je me suis trompé »: the list of answers to choose from was sent
        return await next_step(dispatcher, tracker, events)


class ChangeAnswer(Action):
    """« Modifier une réponse »: the question named (or clicked) is asked again."""

    def name(self) -> str:
        return "action_change_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answered = answers_from(tracker)
        if not answered:
            dispatcher.utter_message(response="utter_nothing_to_change")
            return []
        events = correction_events(dispatcher, tracker, answered)
        return await next_step(dispatcher, tracker, events) if events else []


class Continue(Action):
    """« Continuer », « suivant », « on reprend »."""

    def name(self) -> str:
        return "action_continue"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if asked_question(tracker) is not None:
            dispatcher.utter_message(response="utter_continue")
            return []  # the in-form rule asks the question again
        answered = len(answers_from(tracker))
        if answered == questionnaire().total:
            dispatcher.utter_message(response="utter_diagnostic_done")
            return []
        if answered:
            dispatcher.utter_message(response="utter_continue")
        return [FollowupAction(FORM_NAME)]
