"""Joining a workshop: the code form, its validation and what follows it.

« j'ai un code d'atelier », a code typed alone, or the widget opened with
``?atelier=CODE`` start ``workshop_form``, whose one slot is the code. The
validation reads the code, checks it against the open workshops and counts the
wrong ones; ``action_join_workshop`` then links the conversation to the
workshop and starts (or resumes) the diagnostic. The rules are in
data/rasa/rules.yml; the workshop logic itself is the package bot/workshops.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import FORM_NAME, answers_from, in_thread, questionnaire
from bot import workshops
from bot.workshops import WorkshopNotFound

WORKSHOP_FORM = "workshop_form"
CODE_SLOT = "workshop_code"
# The slot's value when codes are refused for a while: it ends the form, and the action after it explains.
LOCKED = "locked"
CANCEL_INTENTS = {"stop"}


def _codes_in(tracker: Tracker) -> list[str]:
    """The codes the message may give: the widget's payload (entity) first, then what is written."""
    message = tracker.latest_message or {}
    from_entities = [workshops.normalise_code(str(entity.get("value", "")))
                     for entity in message.get("entities") or [] if entity.get("entity") == CODE_SLOT]
    return list(dict.fromkeys([code for code in from_entities if code] + workshops.candidate_codes(message.get("text"))))


def open_workshop(codes: list[str]) -> workshops.WorkshopInfo | None:
    for code in codes:
        found = workshops.find_open_by_code(code)
        if found is not None:
            return found
    return None


def _minutes_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - datetime.now(timezone.utc)).total_seconds() / 60))


class ValidateWorkshopForm(Action):
    """Reads a workshop code: a known open workshop fills the slot; a wrong code is counted."""

    def name(self) -> str:
        return f"validate_{WORKSHOP_FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent in CANCEL_INTENTS:
            return []  # refused: the rule « give up the workshop code » answers
        conversation = tracker.sender_id
        if await in_thread(workshops.code_attempts_locked, conversation):
            return [SlotSet(CODE_SLOT, LOCKED)]
        codes = _codes_in(tracker)
        if not codes:
            # « j'ai un code d'atelier » opens the form without a code: the form asks for it.
            if intent != "join_workshop":
                dispatcher.utter_message(response="utter_workshop_code_missing")
            return [SlotSet(CODE_SLOT, None)]
        workshop = await in_thread(open_workshop, codes)
        if workshop is None:
            # One message is one attempt, however many code-like words it holds.
            await in_thread(workshops.record_wrong_code, conversation)
            if await in_thread(workshops.code_attempts_locked, conversation):
                return [SlotSet(CODE_SLOT, LOCKED)]
            dispatcher.utter_message(response="utter_workshop_code_unknown", code=workshops.format_code(codes[0]))
            return [SlotSet(CODE_SLOT, None)]
        return [SlotSet(CODE_SLOT, workshop.code)]


async def workshop_typed_alone(text: str | None) -> workshops.WorkshopInfo | None:
    """The open workshop whose code is the whole message (« KTR-482 »), typed outside the code form."""
    code = workshops.normalise_code((text or "").strip())
    # Most messages are not code-shaped: only those cost a database look-up (this runs on every answer).
    return await in_thread(workshops.find_open_by_code, code) if code else None


async def welcome(dispatcher: CollectingDispatcher, tracker: Tracker, workshop: workshops.WorkshopInfo) -> bool:
    """Join ``workshop`` and say so; False (and say why) if it closed meanwhile."""
    conversation = tracker.sender_id
    try:
        await in_thread(workshops.join, workshop.id, conversation)
    except WorkshopNotFound:
        # Closed between the code and now: rare, but say it rather than pretend.
        dispatcher.utter_message(response="utter_workshop_closed")
        return False
    await in_thread(workshops.clear_wrong_codes, conversation)
    dispatcher.utter_message(response="utter_workshop_joined", title=workshop.title)
    return True


def continue_diagnostic(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """After joining: the diagnostic goes on, or starts again if it was already finished (it would not count)."""
    if len(answers_from(tracker)) == questionnaire().total:
        dispatcher.utter_message(response="utter_workshop_new_diagnostic")
        return [SessionStarted(), FollowupAction(FORM_NAME)]
    return [SlotSet(CODE_SLOT, None), FollowupAction(FORM_NAME)]


class JoinWorkshop(Action):
    """After the code form: join the workshop and go on with the diagnostic, or explain the lock."""

    def name(self) -> str:
        return "action_join_workshop"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        code = tracker.get_slot(CODE_SLOT)
        if code == LOCKED:
            ends = await in_thread(workshops.code_lock_ends_at, tracker.sender_id)
            dispatcher.utter_message(response="utter_workshop_locked", minutes=_minutes_until(ends) if ends else 1)
            return [SlotSet(CODE_SLOT, None)]
        workshop = await in_thread(workshops.find_open_by_code, code) if code else None
        if workshop is None:
            dispatcher.utter_message(response="utter_workshop_closed")
            return [SlotSet(CODE_SLOT, None)]
        if not await welcome(dispatcher, tracker, workshop):
            return [SlotSet(CODE_SLOT, None)]
        return continue_diagnostic(dispatcher, tracker)
