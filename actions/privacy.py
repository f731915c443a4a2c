"""« supprimer mes données »: erase what is stored about this conversation.

The project's rows (diagnostics, workshop participation, wrong codes) are
deleted here; the conversation itself is deleted from Rasa's tracker store by
the web app's chat relay once Rasa has saved this turn (the reply carries
``{"custom": {"erased": true}}``), see bot/store/privacy.py and bot/web/app.py.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.channel import progress_message
from actions.context import in_thread
from bot.store import privacy


class DeleteMyData(Action):
    """Erases the conversation's data, says so, and starts afresh."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        await in_thread(privacy.erase_conversation, tracker.sender_id)
        dispatcher.utter_message(response="utter_data_deleted")
        dispatcher.utter_message(json_message={**progress_message(None), "erased": True})
        return [Restarted()]
