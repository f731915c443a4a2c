"""The fallback action: likely meanings first, the menu the second time, never a loop."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.conversation import fallback_just_happened, likely_meanings


def tracker(events: list[dict]) -> Tracker:
    return Tracker("t", {}, {}, events, False, None, {}, "action_listen")


def test_likely_meanings_are_the_best_known_intents_without_duplicates() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.6}, {"name": "ask_door", "confidence": 0.2},
               {"name": "ask_doors", "confidence": 0.15}, {"name": "greet", "confidence": 0.1},
               {"name": "start_diagnostic", "confidence": 0.06}, {"name": "ask_levels", "confidence": 0.01}]
    titles = [button["title"] for button in likely_meanings({"intent_ranking": ranking})]
    assert titles == ["Découvrir les 4 portes d'entrée", "Faire le diagnostic"]


def test_second_fallback_in_a_row_is_detected() -> None:
    once = [{"event": "user", "text": "a"}, {"event": "action", "name": "action_default_fallback"},
            {"event": "action", "name": "action_listen"}, {"event": "user", "text": "b"}]
    assert fallback_just_happened(tracker(once))
    understood = [{"event": "user", "text": "a"}, {"event": "action", "name": "utter_greet"},
                  {"event": "action", "name": "action_listen"}, {"event": "user", "text": "b"}]
    assert not fallback_just_happened(tracker(understood))
