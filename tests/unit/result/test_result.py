"""The whole result: its JSON (API, report), the change since the previous diagnostic, the chat messages."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnostic.questionnaire import Questionnaire, load_questionnaire
from bot.knowledge.model import Catalogue, load_catalogue
from bot.result.build import FullResult, build_result
from bot.result.messages import FIRST_MESSAGE_MAX, RESULT_BUTTONS, result_messages, wants_cards

ANSWERS: dict[str, Any] = {
    "actor_type": "association", "size": "benevole", "scale": "local", "theme": "lien_social",
    "experience": "ponctuel", "partners": ["associations", "publics"], "organisation": "informel", "evaluation": "non",
    "resources": "temps", "support": "non", "goal": "territoire", "partners_wanted": "tous", "horizon": "moyen",
}  # fmt: skip
TYPED = {"theme": "on lutte contre l'isolement des personnes âgées du quartier"}


@pytest.fixture(scope="module")
def survey() -> Questionnaire:
    return load_questionnaire()


@pytest.fixture(scope="module")
def catalogue(survey: Questionnaire) -> Catalogue:
    return load_catalogue(survey)


@pytest.fixture(scope="module")
def full(survey: Questionnaire, catalogue: Catalogue) -> FullResult:
    return build_result(survey, catalogue, ANSWERS, TYPED)


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(message.get("text", "") for message in messages)


def test_the_json_has_every_item_with_description_reason_source_and_link(full: FullResult) -> None:
    data = full.to_json()
    assert len(data["tools"]) == 3 and len(data["examples"]) == 2
    for item in data["tools"] + data["examples"]:
        assert set(item) == {"id", "name", "description", "url", "reason", "source"}
        assert item["description"] and item["reason"] and item["source"].endswith(tuple("0123456789"))
    assert 2 <= len(data["steps"]) <= 3 and all(step["tool"] for step in data["steps"])
    assert 1 <= len(data["support"]) <= 2 and data["previous"] is None
    assert data["door"] == "territoire" and data["level"] == "decouverte"


def test_the_plan_follows_the_weakest_dimension_and_gives_each_step_its_own_tool(
        full: FullResult, catalogue: Catalogue) -> None:
    weakest = full.result.weakest_dimension
    steps = full.plan.steps
    assert all(weakest in item.step.tags["dimensions"] for item in steps[:2])
    assert all(full.result.level in item.step.tags["levels"] for item in steps)
    tools = [item.tool.id for item in steps if item.tool]
    assert len(set(tools)) == len(tools) and all(catalogue.get("tool", tool_id).recommendable for tool_id in tools)
    assert all("association" in entry.tags.get("helps", ()) for entry in full.plan.support)


def test_the_change_since_the_previous_diagnostic(survey: Questionnaire, catalogue: Catalogue) -> None:
    before = build_result(survey, catalogue, {**ANSWERS, "experience": "aucun"}).to_json()
    before["completed_at"] = "2026-11-02T10:00:00+00:00"
    after = build_result(survey, catalogue, {**ANSWERS, "evaluation": "indicateurs"}, TYPED, previous=before)
    progress = after.to_json()["previous"]
    assert progress["completed_at"] == "2026-11-02T10:00:00+00:00"
    assert progress["level"] == {"before": "decouverte", "after": after.result.level}
    assert progress["dimensions"]["evaluation"] == {"before": 0, "after": 67}
    assert progress["dimensions"]["experience"]["before"] < progress["dimensions"]["experience"]["after"]
    message = result_messages(survey, after, cards=False, chart_url="/c.svg", report_url="/r")[1]["text"]
    assert "Depuis votre diagnostic du 2 novembre 2026" in message and "Évaluation 0 → 67 %" in message


def test_the_result_is_a_short_sequence_with_cards_for_the_widget(survey: Questionnaire, full: FullResult) -> None:
    messages = result_messages(survey, full, cards=True, chart_url="/c.svg", report_url="/diagnostics/x")
    assert len(messages[0]["text"]) <= FIRST_MESSAGE_MAX
    assert "La co-construction territoriale" in messages[0]["text"]
    assert messages[2] == {"image": "/c.svg"}
    assert "Vos prochaines étapes" in messages[3]["text"] and "Vers qui vous tourner" in messages[3]["text"]
    cards = [message["json_message"]["cards"] for message in messages if "json_message" in message]
    assert [len(group["items"]) for group in cards] == [3, 2]
    for item in cards[0]["items"] + cards[1]["items"]:
        assert item["name"] and item["description"] and item["reason"] and item["source"].startswith("source :")
    assert messages[-1]["buttons"] == RESULT_BUTTONS and "/diagnostics/x" in messages[-1]["text"]
    assert all(len(message.get("text", "")) <= FIRST_MESSAGE_MAX for message in messages[:3])


def test_other_clients_get_the_same_result_as_readable_text(survey: Questionnaire, full: FullResult) -> None:
    messages = result_messages(survey, full, cards=False, chart_url="/c.svg", report_url="/r")
    assert not any("json_message" in message for message in messages)
    text = texts(messages)
    for item in full.tools + full.examples:
        assert item.entry.title in text and item.reason in text
    assert text.count("Pourquoi pour vous :") == 5


def test_only_the_widget_asks_for_cards() -> None:
    assert wants_cards({"client": "widget"})
    assert not wants_cards(None) and not wants_cards({}) and not wants_cards({"client": "autre"})
