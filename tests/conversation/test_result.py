"""The result over REST: a short sequence, cards for the widget and text for others, the action plan, the API,
« d'autres outils » through the same ranking, and the change since the previous diagnostic."""

from __future__ import annotations

import json
from typing import Any

import requests

from bot.diagnostic.questionnaire import load_questionnaire
from tests.client import TIMEOUT, Client, buttons, payload, texts

WIDGET = {"client": "widget"}
ANSWERS = {
    "actor_type": "association", "size": "benevole", "scale": "local", "theme": "lien_social",
    "experience": "ponctuel", "partners": "associations", "organisation": "informel", "evaluation": "non",
    "resources": "temps", "support": "non", "goal": "territoire", "partners_wanted": "tous", "horizon": "moyen",
}  # fmt: skip


def diagnose(client: Client, sender: str, answers: dict[str, str], metadata: dict[str, Any] | None = None,
             start: str = "/start_diagnostic") -> list[dict[str, Any]]:
    """Answer every question by button; the reply to the last answer (the result)."""
    client.say(sender, start, metadata)
    for question in load_questionnaire().questions:
        client.say(sender, payload(question.id, answers[question.id]), metadata)
    return client.say(sender, "/confirm_result", metadata)


def cards_of(reply: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [message["custom"]["cards"] for message in reply if isinstance(message.get("custom"), dict)
            and "cards" in message["custom"]]


def test_the_widget_gets_a_short_sequence_with_cards(client: Client) -> None:
    sender = client.new_sender("result-widget")
    reply = diagnose(client, sender, ANSWERS, WIDGET)
    shown = [message for message in reply if message.get("text")]
    assert "porte d'entrée recommandée" in shown[0]["text"] and len(shown[0]["text"]) <= 600
    assert any("Vos prochaines étapes" in message["text"] for message in shown)
    assert any(message.get("image", "").endswith("/chart.svg") for message in reply)
    groups = cards_of(reply)
    assert [len(group["items"]) for group in groups] == [3, 2]
    for item in groups[0]["items"] + groups[1]["items"]:
        assert item["name"] and item["description"] and item["reason"] and item["source"]
    assert "Pourquoi pour vous" not in texts(reply)  # the cards carry the reasons, not the text
    titles = [button["title"] for button in buttons(reply)]
    assert titles == ["Voir le rapport complet", "D'autres exemples", "D'autres outils", "Découvrir les autres portes",
                      "Recommencer", "Oui", "Non"]  # then « Ce résultat vous est-il utile ? »


def test_other_clients_get_the_same_result_as_text_and_the_api_gives_everything(client: Client) -> None:
    sender = client.new_sender("result-rest")
    reply = diagnose(client, sender, ANSWERS)
    assert not cards_of(reply)
    text = texts(reply)
    state = client.diagnostic(sender).json()
    for item in state["tools"] + state["examples"]:
        assert item["name"] in text and item["reason"] in text
        assert set(item) == {"id", "name", "description", "url", "reason", "source"}
    assert text.count("Pourquoi pour vous") == 5
    assert [step["title"] in text for step in state["steps"]] and all(step["tool"] for step in state["steps"])
    assert state["support"] and state["previous"] is None
    assert {item["id"] for item in state["tools"]}.isdisjoint(item["id"] for item in state["examples"])


def test_more_tools_pages_through_the_same_ranking(client: Client) -> None:
    sender = client.new_sender("result-more")
    diagnose(client, sender, ANSWERS)
    shown = [item["name"] for item in client.diagnostic(sender).json()["tools"]]
    more = texts(client.say(sender, "/more_tools"))
    listed = [line.split("**")[1] for line in more.splitlines() if line.startswith("- **")]
    assert len(listed) == 3 and not set(listed) & set(shown)


def test_the_report_button_gives_the_link(client: Client) -> None:
    sender = client.new_sender("result-report")
    diagnose(client, sender, ANSWERS)
    assert f"/diagnostics/{sender}" in texts(client.say(sender, "/show_report"))


def test_taking_it_again_shows_what_changed(client: Client) -> None:
    sender = client.new_sender("result-again")
    diagnose(client, sender, ANSWERS)
    reply = diagnose(client, sender, {**ANSWERS, "evaluation": "indicateurs"}, start="/restart_diagnostic")
    assert "Depuis votre diagnostic du" in texts(reply) and "Évaluation 0 → 67 %" in texts(reply)
    previous = client.diagnostic(sender).json()["previous"]
    assert previous["dimensions"]["evaluation"] == {"before": 0, "after": 67}


def test_the_reports_redo_link_compares_with_that_report(client: Client) -> None:
    first, second = client.new_sender("redo-from"), client.new_sender("redo-to")
    diagnose(client, first, ANSWERS)
    start = "/restart_diagnostic" + json.dumps({"previous_conversation": first})
    reply = diagnose(client, second, {**ANSWERS, "organisation": "convention"}, start=start)
    assert "Organisation 0 → 33 %" in texts(reply)
    assert client.diagnostic(second).json()["previous"]["level"]["before"] == "decouverte"
    page = requests.get(f"{client.web_url}/diagnostics/{first}", timeout=TIMEOUT).text
    assert f"/?refaire={first}" in page or f"refaire={first}" in page
    assert "Votre plan d'action" in page and "Pourquoi pour vous" in page
