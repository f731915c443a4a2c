"""The result of a finished questionnaire: computed, stored, and shown as a short sequence of messages.

The result itself (scores, recommendations ranked for this user, action plan, change since the
previous diagnostic) is built by :mod:`bot.result.build`; its messages by :mod:`bot.result.messages`.
The chat widget says in its metadata that it draws cards; other clients get the same result as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channel import chart_url, progress_message, report_url
from actions.context import (
    LAST_SOURCES_SLOT,
    LISTING_SLOT,
    PREVIOUS_SLOT,
    RESULT_SHOWN_SLOT,
    TYPED_SLOT,
    answers_from,
    catalogue,
    in_thread,
    questionnaire,
    relatedness,
)
from actions.feedback import reset_events
from bot.knowledge.recommend import EXAMPLES_SHOWN, TOOLS_SHOWN
from bot.result.build import FullResult, build_result
from bot.result.messages import result_messages, wants_cards
from bot.store import diagnostics


def result_listings(full: FullResult) -> dict[str, Any]:
    """« D'autres exemples / outils » continue the result's rankings where it stopped."""
    profile = full.profile.to_json()
    return {"example": {"kind": "example", "profile": profile, "offset": EXAMPLES_SHOWN},
            "tool": {"kind": "tool", "profile": profile, "offset": TOOLS_SHOWN}}


def send(dispatcher: CollectingDispatcher, messages: list[Mapping[str, Any]]) -> None:
    for message in messages:
        dispatcher.utter_message(**message)


class ShowResult(Action):
    """Computes and stores the result, then shows it."""

    def name(self) -> str:
        return "action_show_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return await present_result(dispatcher, tracker, answers_from(tracker))


async def present_result(dispatcher: CollectingDispatcher, tracker: Tracker,
                         answers: dict[str, Any]) -> list[EventType]:
    """Compute, store and show the result of ``answers`` (the slots, or the slots as a correction leaves them)."""
    survey = questionnaire()
    # Shown already in this session: an answer was corrected, and the same diagnostic is computed again.
    correction = bool(tracker.get_slot(RESULT_SHOWN_SLOT))
    previous = await in_thread(partial(diagnostics.previous_result, correction=correction), tracker.sender_id, answers)
    compared = tracker.get_slot(PREVIOUS_SLOT)
    if previous is None and isinstance(compared, str) and compared != tracker.sender_id:
        previous = await in_thread(diagnostics.previous_result, compared, {})
    full = build_result(survey, catalogue(), answers, tracker.get_slot(TYPED_SLOT) or {}, relatedness, previous)
    await in_thread(partial(diagnostics.record_result, correction=correction), tracker.sender_id, answers,
                    full.to_json())
    dispatcher.utter_message(json_message=progress_message(None))
    metadata = (tracker.latest_message or {}).get("metadata")
    send(dispatcher, result_messages(survey, full, cards=wants_cards(metadata), chart_url=chart_url(tracker.sender_id),
                                     report_url=report_url(tracker.sender_id)))
    sources = [str(item.entry.source) for item in full.tools + full.examples]
    # A first result asks afresh whether it is useful (actions/feedback.py); a corrected one does not.
    feedback = [] if correction else reset_events()
    return [SlotSet(LISTING_SLOT, result_listings(full)), SlotSet(LAST_SOURCES_SLOT, sources),
            SlotSet(RESULT_SHOWN_SLOT, True), *feedback]


class ShowReport(Action):
    """« Voir le rapport complet »: the link to the printable report of this conversation."""

    def name(self) -> str:
        return "action_show_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if len(answers_from(tracker)) < questionnaire().total:
            dispatcher.utter_message(response="utter_no_report_yet")
            return []
        dispatcher.utter_message(response="utter_report_link", report_url=report_url(tracker.sender_id))
        return []
