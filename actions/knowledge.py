"""Answers about the four entry doors and the maturity levels, at any time."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import questionnaire


def door_payload(door_id: str) -> str:
    return "/ask_door" + json.dumps({"door": door_id})


class DescribeDoors(Action):
    """The four doors, one line each, with a button per door."""

    def name(self) -> str:
        return "action_describe_doors"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        doors = questionnaire().doors
        lines = [f"Il y a {len(doors)} portes d'entrée pour apprendre à faire alliance :"]
        lines += [f"- **{door.label}** : {door.meaning}" for door in doors]
        buttons = [{"title": door.label, "payload": door_payload(door.id)} for door in doors]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


class DescribeDoor(Action):
    """One door, named in the message (entity ``door``)."""

    def name(self) -> str:
        return "action_describe_door"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        survey = questionnaire()
        known = {door.id for door in survey.doors}
        door_id = next((value for value in tracker.get_latest_entity_values("door") if value in known), None)
        if door_id is None:
            return await DescribeDoors().run(dispatcher, tracker, domain)
        door = survey.door(door_id)
        dispatcher.utter_message(text=f"**{door.label}** : {door.meaning}")
        return []


class DescribeLevels(Action):
    """The maturity levels with their ranges, or the one named (entity ``level``)."""

    def name(self) -> str:
        return "action_describe_levels"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        levels = questionnaire().levels
        named = set(tracker.get_latest_entity_values("level"))
        chosen = [level for level in levels if level.id in named] or list(levels)
        bounds = [level.min for level in levels[1:]] + [101]
        upper = {level.id: bound - 1 for level, bound in zip(levels, bounds)}
        lines = [] if len(chosen) == 1 else [f"Le diagnostic situe votre maturité sur {len(levels)} niveaux :"]
        lines += [
            f"- **{level.label}** ({level.min}–{min(upper[level.id], 100)} %) : {level.meaning}" for level in chosen
        ]
        dispatcher.utter_message(text="\n".join(lines))
        return []
