"""Knowledge answers, at any time: doors, levels, definitions, examples, tools, support, figures, sources.

Thin adapters over ``bot.knowledge.lookup`` (lookups, citations), ``bot.knowledge.search`` (ranking by
meaning) and ``bot.knowledge.recommend`` (ranking for a diagnostic). Lists show three
items at most, then a « Voir plus » button; every fact is given with its source,
and the sources of the last answer are kept for « d'où vient ce chiffre ? ».
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import (
    GENERAL_KINDS,
    LAST_SOURCES_SLOT,
    LISTING_SLOT,
    catalogue,
    questionnaire,
    relatedness,
    search_index,
)
from bot.diagnostic.entities import ENTITY_EQUIVALENTS
from bot.diagnostic.places import places
from bot.diagnostic.text import normalise
from bot.knowledge import lookup as kb
from bot.knowledge.model import Entry, Source
from bot.knowledge.profile import UserProfile
from bot.knowledge.reasons import Labels
from bot.knowledge.search import filters_from
from bot.result.build import rank_for

# A question about a door that asks for its tools, examples or support (« quels outils pour l'engagement des
# salariés ? ») is answered by that list, filtered on the door.
LIST_CUES = {
    "tool": re.compile(r"\b(?:outil|outils|ressource|ressources|kit|kits|guide|guides|methode|methodes|boite a outils)\b"),
    "example": re.compile(r"\b(?:exemple|exemples|cas|initiative|initiatives|realisation|realisations)\b"),
    "support_structure": re.compile(r"\b(?:accompagner|accompagnement|aider|aide|appui|soutien|tourner)\b"),
}
FIGURE_CUES = re.compile(r"\b(?:combien|chiffre|chiffres|nombre|pourcentage|pourcent|part|taux|statistique)s?\b|%|\d")
# Entries a list question may name outright; a term or a door it names is what the list is about.
LISTED_KINDS = ("tool", "example", "support_structure")
MORE_PAYLOADS = {"example": "/more_examples", "tool": "/more_tools", "support_structure": "/ask_support"}
# A question names the entry it asks about when that name covers at least this share of its meaningful words.
NAMED_SHARE = 0.5
# A search score this high means the entry is about what was asked (a name or most of the words in common).
MEANING_SCORE = 1.2
# A general question's second-best entry is shown too when its score is this close to the best one's.
CLOSE_SCORE = 0.05
LIST_TITLES = {
    "example": "Des exemples d'alliances",
    "tool": "Des outils",
    "support_structure": "Vers qui vous tourner",
}


def door_payload(door_id: str) -> str:
    return "/ask_door" + json.dumps({"door": door_id})


def _entity_filters(tracker: Tracker) -> dict[str, list[str]]:
    """Door, actor type and theme named in the message (« des exemples d'associations »)."""
    actor_types = list(tracker.get_latest_entity_values("actor_type"))
    for (entity, value), actor_type in ENTITY_EQUIVALENTS["actor_type"].items():
        if value in tracker.get_latest_entity_values(entity) and actor_type not in actor_types:
            actor_types.append(actor_type)  # plural words are tagged as partner types
    return {
        "doors": list(tracker.get_latest_entity_values("door")),
        "actor_types": actor_types,
        "themes": list(tracker.get_latest_entity_values("theme")),
    }


def _ranked(listing: dict[str, Any]) -> list[tuple[Entry, str | None]]:
    """The whole ordered list a listing pages through."""
    kind = listing["kind"]
    entries = catalogue().of(kind)
    if listing.get("profile"):
        picks = rank_for(catalogue(), UserProfile.from_json(listing["profile"]), Labels.from_questionnaire(questionnaire()),
                         relatedness)
        return [(item.entry, item.reason) for item in (picks.tools if kind == "tool" else picks.examples)]
    filters = filters_from(listing.get("filters") or {})
    index = search_index((kind,))
    query = listing.get("query") or ""
    if listing.get("place"):
        return [(entry, None) for entry in examples_near(listing["place"], entries)]
    if index.is_vague(query):
        return [(entry, None) for entry in entries if filters.accept(entry)]
    hits = index.search(query, filters) or index.search(query)  # too narrow a filter: search everything
    return [(hit.entry, None) for hit in hits]


def show_listing(dispatcher: CollectingDispatcher, tracker: Tracker, listing: dict[str, Any]) -> list[EventType]:
    """Send the next page of a listing; remember where it stopped and the sources shown."""
    items = _ranked(listing)
    offset = int(listing.get("offset", 0))
    page = items[offset: offset + kb.PAGE_SIZE]
    if not page:
        dispatcher.utter_message(response="utter_no_more_results" if offset else "utter_no_results")
        return []
    title = listing.get("title") or f"{LIST_TITLES[listing['kind']]} :"
    lines = [title] + [kb.list_line(entry, reason) for entry, reason in page]
    buttons = []
    if offset + len(page) < len(items):
        buttons.append({"title": "Voir plus", "payload": MORE_PAYLOADS[listing["kind"]]})
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
    listings = dict(tracker.get_slot(LISTING_SLOT) or {})
    listings[listing["kind"]] = {**listing, "offset": offset + len(page)}
    return [SlotSet(LISTING_SLOT, listings), SlotSet(LAST_SOURCES_SLOT, kb.sources_of(entry for entry, _ in page))]


class _Listing(Action):
    """Base of the list answers: a new search on the message, or the next page of the last list."""

    kind: str = ""
    action_name: str = ""
    continue_previous: bool = False
    use_entity_filters: bool = True

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        previous = (tracker.get_slot(LISTING_SLOT) or {}).get(self.kind)
        text = (tracker.latest_message or {}).get("text") or ""
        clicked = text.startswith("/")  # a button (« Voir plus »…): no words to search for
        if (self.continue_previous or clicked) and previous:
            return show_listing(dispatcher, tracker, previous)
        if clicked:
            text = ""
        entry = named_entry(text)
        filters = _entity_filters(tracker) if self.use_entity_filters else {}
        if entry is not None and entry.kind == "door":
            filters = {**filters, "doors": [entry.id]}  # « des outils pour l'engagement des salariés »
        elif (entry is not None and entry.kind in LISTED_KINDS
              and kb.coverage(entry, kb.subject_of(text)) >= NAMED_SHARE):
            return answer_named_entry(dispatcher, entry)  # « le kit l'ODD 17 en pratique c'est quoi » names a tool
        listing = {"kind": self.kind, "query": "" if self.continue_previous else text, "filters": filters, "offset": 0}
        if self.kind == "example":
            listing.update(place_without_example(text))
        return show_listing(dispatcher, tracker, listing)


def place_without_example(text: str) -> dict[str, str]:
    """« des exemples à Brest » with no example at Brest: the listing of the examples nearest to it, and a title
    that says so; nothing when the place has examples (the search keeps them) or no place is named."""
    place = places().named_in(text)
    index = search_index(("example",))
    if place is None or index.places_in(text):
        return {}
    nearby = examples_near(place, catalogue().of("example"))
    if not nearby:
        return {}
    region = places().region_of(place)
    same_region = region and any(places().region_of(p) == region for p in example_places(nearby[0]))
    nearest = f"les plus proches, en {region}" if same_region else "ceux dont la description en parle"
    return {"place": place, "title": f"Je n'ai pas d'exemple à {place} dans ma base. Voici {nearest} :"}


def example_places(entry: Entry) -> list[str]:
    return [str(place) for place in (entry.get("places") or [])] + ([entry.get("territory")] if entry.get("territory") else [])


def examples_near(place: str, entries: tuple[Entry, ...]) -> list[Entry]:
    """The examples of the place's region, else those whose description names it."""
    region = places().region_of(place)
    same_region = [entry for entry in entries if entry.recommendable and region
                   and any(places().region_of(where) == region for where in example_places(entry))]
    if same_region:
        return same_region
    padded = f" {normalise(place)} "
    return [entry for entry in entries if padded in f" {normalise(entry.text)} "]


class FindExamples(_Listing):
    """« un exemple sur Y », « des exemples à Z »."""

    kind, action_name = "example", "action_find_examples"


class FindTools(_Listing):
    """« quels outils pour W ? »."""

    kind, action_name = "tool", "action_find_tools"


class FindSupport(_Listing):
    """« vers qui me tourner ? »: support structures ranked by what the message asks for.

    Actor words here name what is sought (« un réseau d'accompagnement »), not the
    user, so they do not filter.
    """

    kind, action_name, use_entity_filters = "support_structure", "action_find_support", False


class MoreExamples(_Listing):
    """« d'autres exemples »: the next ones of the last list (no repeats)."""

    kind, action_name, continue_previous = "example", "action_more_examples", True


class MoreTools(_Listing):
    """« d'autres outils »."""

    kind, action_name, continue_previous = "tool", "action_more_tools", True


class Define(Action):
    """« c'est quoi X ? »: a glossary term, a door, a tool, an example or a support structure."""

    def name(self) -> str:
        return "action_define"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        subject = kb.subject_of(text)
        entry = kb.lookup(catalogue(), subject)
        if entry is None or kb.coverage(entry, subject) < NAMED_SHARE:
            # No name fits the question's words (a loose match is a spelling guess): an entry close enough in
            # meaning answers it better (« définition du mécénat » → « Mécénat de compétences » if no other).
            hits = search_index(GENERAL_KINDS).search(text, limit=1)
            if hits and hits[0].score >= MEANING_SCORE:
                entry = hits[0].entry
        if entry is None:
            dispatcher.utter_message(response="utter_unknown_subject", subject=subject or text[:60])
            return []
        return answer_named_entry(dispatcher, entry)


def named_entry(text: str, kinds: tuple[str, ...] = kb.LOOKUP_KINDS) -> Entry | None:
    """The knowledge entry the message names outright (exact or contained name), if any."""
    return kb.lookup(catalogue(), kb.subject_of(text), kinds, loose=False)


def answer_named_entry(dispatcher: CollectingDispatcher, entry: Entry) -> list[EventType]:
    """Describe one entry with its source, and remember the source for « d'où vient ce chiffre ? »."""
    dispatcher.utter_message(text=kb.describe(entry))
    return [SlotSet(LAST_SOURCES_SLOT, [str(entry.source)])]


class AnswerOutsideQuestionnaire(Action):
    """An answer-like message with no question pending: a question about a named entry, or an offer to start."""

    def name(self) -> str:
        return "action_answer_outside_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        entry = named_entry((tracker.latest_message or {}).get("text") or "")
        if entry is not None:
            return answer_named_entry(dispatcher, entry)
        dispatcher.utter_message(response="utter_answer_outside_form")
        return []


class AnswerGeneral(Action):
    """A question about alliances in general or about the mission (« pourquoi faire alliance ? », « qui a lancé
    la mission ? »): the entry of the knowledge base that it names, else the closest in meaning, all kinds
    together (references included: they answer questions, they are only never recommended)."""

    def name(self) -> str:
        return "action_answer_general"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return answer_in_general(dispatcher, (tracker.latest_message or {}).get("text") or "")


def answer_in_general(dispatcher: CollectingDispatcher, text: str) -> list[EventType]:
    """The entry the question is exactly about (« c'est quoi l'ODD 17 ? »), else the closest in meaning: a
    question about alliances names several things (« la mission sur les alliances stratégiques »), and the
    one it asks about is found by meaning, not by the first name it contains."""
    subject = kb.subject_of(text)
    entry = kb.lookup(catalogue(), subject, loose=False)
    if entry is not None and kb.coverage(entry, subject) >= NAMED_SHARE:
        return answer_named_entry(dispatcher, entry)
    hits = search_index(GENERAL_KINDS).search(text, limit=2)
    if not hits:
        if entry is None:
            dispatcher.utter_message(response="utter_no_results")
            return []
        return answer_named_entry(dispatcher, entry)
    close = [hit.entry for hit in hits if hit.score >= hits[0].score - CLOSE_SCORE]
    if len(close) == 1:
        return answer_named_entry(dispatcher, close[0])
    # Two entries answer about as well: the first in full, the other in one line, rather than a guess.
    dispatcher.utter_message(text="\n".join([kb.describe(close[0]), "Voyez aussi :", kb.list_line(close[1])]))
    return [SlotSet(LAST_SOURCES_SLOT, kb.sources_of(close))]


class KeyFigure(Action):
    """« combien de … ? »: the key figure closest in meaning, with its year and source."""

    def name(self) -> str:
        return "action_key_figure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if not FIGURE_CUES.search(normalise(text)):
            entry = named_entry(text)  # « tu connais l'Alliance Dynamique ? » names an entry, asks no figure
            if entry is not None:
                return answer_named_entry(dispatcher, entry)
        hits = search_index(("figure",)).search(text, limit=1)
        if not hits:
            dispatcher.utter_message(response="utter_unknown_figure")
            return []
        return answer_named_entry(dispatcher, hits[0].entry)


class FactSource(Action):
    """« d'où vient ce chiffre ? »: the documents and lines of the last facts given."""

    def name(self) -> str:
        return "action_fact_source"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        sources = tracker.get_slot(LAST_SOURCES_SLOT) or []
        if not sources:
            dispatcher.utter_message(response="utter_no_source_yet")
            return []
        lines = ["Cela vient de :"]
        for raw in dict.fromkeys(sources):
            file_name, lines_part = raw.split(" ", 1)
            start, _, end = lines_part.lstrip("L").partition("-")
            source = Source(file_name, int(start), int(end or start))
            lines.append(f"- {kb.source_titles_full().get(file_name, file_name)} ({file_name}, {kb.cite_lines(source)})")
        dispatcher.utter_message(text="\n".join(lines))
        return []


class DescribeDoors(Action):
    """The four doors, one line each, with a button per door."""

    def name(self) -> str:
        return "action_describe_doors"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        doors = questionnaire().doors
        lines = [f"Il y a {len(doors)} portes d'entrée pour apprendre à faire alliance :"]
        lines += [f"- **{door.label}** : {door.meaning}" for door in doors]
        profiles = [catalogue().get("door", door.id) for door in doors]
        sources = [str(profile.source) for profile in profiles if profile]
        if profiles and profiles[0]:
            lines.append(f"({kb.cite(profiles[0].source)})")
        buttons = [{"title": door.label, "payload": door_payload(door.id)} for door in doors]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [SlotSet(LAST_SOURCES_SLOT, sources)]


class DescribeDoor(Action):
    """One door, named in the message (entity ``door``): what it is, who it suits, its toolbox."""

    def name(self) -> str:
        return "action_describe_door"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        known = {door.id for door in questionnaire().doors}
        door_id = next((value for value in tracker.get_latest_entity_values("door") if value in known), None)
        if door_id is None:
            return await DescribeDoors().run(dispatcher, tracker, domain)
        text = (tracker.latest_message or {}).get("text") or ""
        entry = named_entry(text, ("term", "tool", "example", "support_structure"))
        door_words = max((len(e.get("value") or "") for e in (tracker.latest_message or {}).get("entities") or []
                          if e.get("entity") == "door"), default=0)
        if entry is not None and len(entry.title) > door_words + 10:
            return answer_named_entry(dispatcher, entry)  # « le kit l'ODD 17 en pratique » names a tool
        asked = next((kind for kind, cue in LIST_CUES.items() if cue.search(normalise(text))), None)
        if asked is not None:
            listing = {"kind": asked, "query": text, "filters": {"doors": [door_id]}, "offset": 0,
                       "title": f"{LIST_TITLES[asked]} pour la porte « {questionnaire().door(door_id).label} » :"}
            return show_listing(dispatcher, tracker, listing)
        door = questionnaire().door(door_id)
        profile = catalogue().get("door", door_id)
        if profile is None:
            dispatcher.utter_message(text=f"**{door.label}** : {door.meaning}")
            return []
        lines = [f"**{door.label}** : {profile.text}", f"Pour qui : {' '.join(str(profile.get('suits')).split())}",
                 f"Boîte à outils : {profile.get('toolbox')}", f"({kb.cite(profile.source)})"]
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet(LAST_SOURCES_SLOT, [str(profile.source)])]


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
