"""When the assistant does not understand: likely meanings as buttons, then the menu, never a loop."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import answer_named_entry, named_entry
from actions.workshops import continue_diagnostic, welcome, workshop_typed_alone

FALLBACK_ACTION = "action_default_fallback"
# What a likely intent is offered as; intents missing here are never suggested.
SUGGESTIONS = {
    "start_diagnostic": ("Faire le diagnostic", "/start_diagnostic"),
    "ask_doors": ("Découvrir les 4 portes d'entrée", "/ask_doors"),
    "ask_door": ("Découvrir les 4 portes d'entrée", "/ask_doors"),
    "ask_levels": ("Les niveaux de maturité", "/ask_levels"),
    "ask_examples": ("Voir des exemples", "/ask_examples"),
    "ask_tools": ("Voir des outils", "/ask_tools"),
    "ask_support": ("Vers qui me tourner ?", "/ask_support"),
    "restart_diagnostic": ("Recommencer le diagnostic", "/restart_diagnostic"),
    "show_menu": ("Voir le menu", "/show_menu"),
}
MIN_SUGGESTION_CONFIDENCE = 0.05
MAX_SUGGESTIONS = 3


def likely_meanings(parse: dict[str, Any]) -> list[dict[str, str]]:
    """Buttons for the most likely meanings of a message, best first, without duplicates."""
    buttons: list[dict[str, str]] = []
    for entry in parse.get("intent_ranking") or []:
        suggestion = SUGGESTIONS.get(entry.get("name", ""))
        if suggestion is None or (entry.get("confidence") or 0.0) < MIN_SUGGESTION_CONFIDENCE:
            continue
        button = {"title": suggestion[0], "payload": suggestion[1]}
        if button not in buttons:
            buttons.append(button)
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


def fallback_just_happened(tracker: Tracker) -> bool:
    """True when the previous user message already ended in a fallback."""
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                return False
        elif users_seen == 1 and event.get("event") == "action" and event.get("name") == FALLBACK_ACTION:
            return True
    return False


class DefaultFallback(Action):
    """Replaces Rasa's default fallback: says so briefly, offers likely meanings, then the menu."""

    def name(self) -> str:
        return FALLBACK_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if not text.strip():
            dispatcher.utter_message(response="utter_empty_message")
            dispatcher.utter_message(response="utter_menu")
            return []
        # Not understood, but the code of an open workshop typed alone (« KTR-482 »): join it.
        workshop = await workshop_typed_alone(text)
        if workshop is not None:
            return continue_diagnostic(dispatcher, tracker) if await welcome(dispatcher, tracker, workshop) else []
        # Not understood, but it names something of the knowledge base (« collective impact à la française ? »).
        named = named_entry(text)
        if named is not None:
            return answer_named_entry(dispatcher, named)
        buttons = [] if fallback_just_happened(tracker) else likely_meanings(tracker.latest_message or {})
        if not buttons:
            dispatcher.utter_message(response="utter_fallback_menu")
            return []
        if {"title": "Voir le menu", "payload": "/show_menu"} not in buttons:
            buttons.append({"title": "Voir le menu", "payload": "/show_menu"})
        dispatcher.utter_message(response="utter_fallback_suggestions", buttons=buttons)
        return []
