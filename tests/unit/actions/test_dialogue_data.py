"""The dialogue data agrees with itself: form slots, ask actions, in-form rules."""

from __future__ import annotations

from pathlib import Path

import yaml

from actions.forms import ASK_ACTIONS, QUESTION_IDS
from bot.diagnostic.answers import is_answering_intent
from bot.diagnostic.questionnaire import load_questionnaire

ROOT = Path(__file__).resolve().parents[3]
FORM = "diagnostic_form"
WORKSHOP_FORM = "workshop_form"
# Intents whose in-form rule hands over to another form, which resumes the questionnaire when it is done.
HANDED_OVER = {"join_workshop": WORKSHOP_FORM}


def _domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def _rules() -> list[dict]:
    return yaml.safe_load((ROOT / "data" / "rasa" / "rules.yml").read_text(encoding="utf-8"))["rules"]


def test_form_lists_exactly_the_questionnaire_slots_in_order() -> None:
    required = _domain()["forms"][FORM]["required_slots"]
    assert required == list(load_questionnaire().question_ids)
    assert list(QUESTION_IDS) == required
    assert len(required) == 13


def test_every_question_slot_is_custom_mapped_and_has_an_ask_action() -> None:
    domain = _domain()
    for question_id in QUESTION_IDS:
        slot = domain["slots"][question_id]
        assert slot["mappings"] == [{"type": "custom"}], question_id
        assert slot["influence_conversation"] is False
        assert f"action_ask_{question_id}" in domain["actions"]
    assert sorted(action().name() for action in ASK_ACTIONS) == sorted(f"action_ask_{q}" for q in QUESTION_IDS)


def _in_form_rule_intents(form: str = FORM) -> dict[str, list[str]]:
    """Intent → the actions of its rule, for the rules conditioned on the running form."""
    found: dict[str, list[str]] = {}
    for rule in _rules():
        if {"active_loop": form} not in rule.get("condition", []):
            continue
        steps = rule["steps"]
        if "intent" in steps[0]:
            found[steps[0]["intent"]] = [step["action"] for step in steps[1:] if "action" in step]
    return found


def test_every_interruption_inside_the_form_has_a_rule_that_returns_or_pauses() -> None:
    intents = [intent for intent in _domain()["intents"] if not is_answering_intent(intent)]
    rules = _in_form_rule_intents()
    missing = [intent for intent in intents if intent not in rules]
    assert missing == [], f"intents with no in-form rule: {missing}"
    pausing = {"stop", "goodbye", "show_menu", "confirm_delete_my_data"}
    for intent, actions in rules.items():
        if intent in pausing:
            assert "action_deactivate_loop" in actions, intent
        elif intent in HANDED_OVER:
            assert actions[-1] == HANDED_OVER[intent], intent
        else:
            assert actions[-1] == FORM, f"rule for {intent} does not return to the question"


def test_answering_intents_have_no_in_form_rule() -> None:
    rules = _in_form_rule_intents()
    assert [intent for intent in rules if is_answering_intent(intent)] == []


def test_the_workshop_form_asks_only_the_code_and_can_be_left() -> None:
    domain = _domain()
    assert domain["forms"][WORKSHOP_FORM]["required_slots"] == ["workshop_code"]
    assert domain["slots"]["workshop_code"]["mappings"] == [{"type": "custom"}]
    assert "utter_ask_workshop_code" in domain["responses"]
    assert {"validate_workshop_form", "action_join_workshop"} <= set(domain["actions"])
    leaving = _in_form_rule_intents(WORKSHOP_FORM)
    assert "action_deactivate_loop" in leaving["stop"]
    settled = [rule for rule in _rules() if {"active_loop": WORKSHOP_FORM} in rule.get("condition", [])
               and rule["steps"][0] == {"action": WORKSHOP_FORM}]
    assert [step.get("action") for step in settled[0]["steps"]][-1] == "action_join_workshop"
