"""« Ce résultat vous est-il utile ? » after the result, then an optional comment (the form ``feedback_form``).

- ``action_ask_feedback_useful`` / ``action_ask_feedback_comment`` ask each question once. A question the
  form would ask again after an interruption (the user clicked « Voir le rapport », asked for examples…) is
  dropped instead: the form ends there, so the feedback never stands in the user's way.
- ``validate_feedback_form`` reads Oui / Non (buttons ``/affirm`` and ``/deny``, or typed), then the comment:
  any typed text, or « Passer » (``/deny``, « non », « rien »…) for none. Any other button is refused, so
  that its rule answers it.
- ``action_feedback_done`` stores what was given (bot/analytics/feedback.py: comment masked, door and
  level of the result) and thanks the user when they went to the end.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import REQUESTED_SLOT, in_thread
from bot.analytics.feedback import record_feedback
from bot.diagnostic.text import normalise

FEEDBACK_FORM = "feedback_form"
USEFUL_SLOT = "feedback_useful"
COMMENT_SLOT = "feedback_comment"
ASKED_SLOT = "feedback_asked"
FEEDBACK_SLOTS = (USEFUL_SLOT, COMMENT_SLOT, ASKED_SLOT)
# Typed instead of a comment, these mean « no comment ».
NO_COMMENT = {"passer", "passe", "non", "non merci", "rien", "rien a dire", "pas de commentaire", "aucun",
              "aucun commentaire", "skip", "non rien", "ca ira", "c est tout", "non c est bon", "pas la peine"}
MAX_COMMENT_CHARS = 2000


def answered_already(tracker: Tracker) -> bool:
    """True when the form refused the latest user message (a rule answered it) and is only coming back."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action_execution_rejected" and event.get("name") == FEEDBACK_FORM:
            return True
    return False


def reset_events() -> list[EventType]:
    """Every feedback slot emptied (a new result asks again)."""
    return [SlotSet(slot, None) for slot in FEEDBACK_SLOTS]


class AskFeedback:
    """Asks one feedback question, once; asked again after an interruption, it ends the form instead."""

    slot: str = ""
    response: str = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        asked = list(tracker.get_slot(ASKED_SLOT) or [])
        if self.slot in asked:
            return [ActiveLoop(None)]
        dispatcher.utter_message(response=self.response)
        return [SlotSet(ASKED_SLOT, [*asked, self.slot])]


class AskUseful(AskFeedback, Action):
    slot, response = USEFUL_SLOT, "utter_feedback_useful"


class AskComment(AskFeedback, Action):
    slot, response = COMMENT_SLOT, "utter_feedback_comment"


class ValidateFeedbackForm(Action):
    """Reads Oui / Non, then the comment; anything else is refused so that its rule answers it."""

    def name(self) -> str:
        return f"validate_{FEEDBACK_FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if answered_already(tracker):
            return []  # the form is coming back after an interruption: the message was answered already
        parse = tracker.latest_message or {}
        intent = (parse.get("intent") or {}).get("name")
        text = (parse.get("text") or "").strip()
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested == USEFUL_SLOT and intent in ("affirm", "deny"):
            return [SlotSet(USEFUL_SLOT, intent == "affirm")]
        if requested == COMMENT_SLOT:
            if text.startswith("/"):
                return [SlotSet(COMMENT_SLOT, "")] if intent == "deny" else []  # « Passer », or another button
            if normalise(text) in NO_COMMENT or not text:
                return [SlotSet(COMMENT_SLOT, "")]
            return [SlotSet(COMMENT_SLOT, text[:MAX_COMMENT_CHARS])]
        return []


class FeedbackDone(Action):
    """Stores the feedback given (if any), thanks the user when they answered to the end, empties the slots."""

    def name(self) -> str:
        return "action_feedback_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        useful = tracker.get_slot(USEFUL_SLOT)
        comment = tracker.get_slot(COMMENT_SLOT)
        if isinstance(useful, bool):
            await in_thread(record_feedback, tracker.sender_id, useful, comment if isinstance(comment, str) else None)
            if comment is not None:
                dispatcher.utter_message(response="utter_feedback_thanks")
        return reset_events()
