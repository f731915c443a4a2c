"""The web app over HTTP, against the running stack: chat relay, widget messages, report pages, headers."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

import pytest
import requests

from bot.diagnostic.questionnaire import load_questionnaire
from tests.client import TIMEOUT, Client, buttons, payload, texts
from tests.conversation.test_diagnostic_flow import BUTTON_ANSWERS, start

SVG = "{http://www.w3.org/2000/svg}"


def relay(client: Client, sender: str, message: str) -> list[dict]:
    """Say something through the web app, as the widget does."""
    response = requests.post(
        f"{client.web_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=TIMEOUT
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def finished(client: Client) -> tuple[str, list[list[dict]]]:
    """A diagnostic answered by buttons through the web app, and every reply it got."""
    survey = load_questionnaire()
    sender = client.new_sender("web")
    replies = [relay(client, sender, "bonjour"), relay(client, sender, "/start_diagnostic")]
    for question in survey.questions:
        replies.append(relay(client, sender, payload(question.id, BUTTON_ANSWERS[question.id])))
    replies.append(relay(client, sender, "/confirm_result"))
    return sender, replies


def progress_of(reply: list[dict]) -> list:
    return [message["custom"]["progress"] for message in reply if "progress" in (message.get("custom") or {})]


def test_the_relay_gives_rasas_answers(client: Client) -> None:
    reply = relay(client, client.new_sender(), "bonjour")
    assert "Faire le diagnostic" in [button["title"] for button in buttons(reply)]


def test_every_question_comes_with_its_progress(finished: tuple[str, list[list[dict]]]) -> None:
    _, replies = finished
    positions = [progress["position"] for reply in replies for progress in progress_of(reply) if progress]
    assert positions == list(range(1, 14))
    assert {progress["total"] for reply in replies for progress in progress_of(reply) if progress} == {13}
    assert progress_of(replies[-1]) == [None], "the result hides the progress bar"


def test_the_result_links_to_the_report_and_shows_the_chart(client: Client, finished: tuple) -> None:
    sender, replies = finished
    result = replies[-1]
    assert f"(/diagnostics/{sender})" in texts(result)
    images = [message["image"] for message in result if message.get("image")]
    assert images == [f"/diagnostics/{sender}/chart.svg"]
    chart = requests.get(client.web_url + images[0], timeout=TIMEOUT)
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    bars = ET.fromstring(chart.content).iter(f"{SVG}rect")
    assert len([bar for bar in bars if bar.get("class") == "bar"]) == 4


def test_the_report_page_shows_the_result(client: Client, finished: tuple) -> None:
    sender, _ = finished
    survey = load_questionnaire()
    state = client.diagnostic(sender).json()
    page = requests.get(f"{client.web_url}/diagnostics/{sender}", timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for label in (survey.door(state["door"]).label, survey.level(state["level"]).label):
        assert label in page.text
    for item in state["tools"] + state["examples"]:
        assert html.escape(item["name"]) in page.text


def test_unknown_and_hostile_ids_get_a_404_page(client: Client) -> None:
    hostile = "<script>alert(1)</script>"
    for conversation_id in ("inconnu-123", hostile, "x" * 300):
        page = requests.get(f"{client.web_url}/diagnostics/{requests.utils.quote(conversation_id)}", timeout=TIMEOUT)
        assert page.status_code == 404, conversation_id
        assert "<script>alert" not in page.text
    chart = requests.get(f"{client.web_url}/diagnostics/inconnu-123/chart.svg", timeout=TIMEOUT)
    assert chart.status_code == 404


def test_an_unfinished_diagnostic_has_a_report_that_says_so(client: Client) -> None:
    sender = client.new_sender("unfinished")
    start(client, sender)
    page = requests.get(f"{client.web_url}/diagnostics/{sender}", timeout=TIMEOUT)
    assert page.status_code == 200
    assert "0 question" in page.text or "aucune" in page.text.lower()
    assert requests.get(f"{client.web_url}/diagnostics/{sender}/chart.svg", timeout=TIMEOUT).status_code == 404


@pytest.mark.parametrize("path", ["/", "/widget.js", "/widget.css", "/static/report.css", "/health"])
def test_pages_and_assets_carry_the_security_headers(client: Client, path: str) -> None:
    response = requests.get(client.web_url + path, timeout=TIMEOUT)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_other_sites_may_call_the_chat_relay(client: Client) -> None:
    preflight = requests.options(
        f"{client.web_url}/webhooks/rest/webhook",
        headers={"Origin": "https://reseau.example.org", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
        timeout=TIMEOUT,
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://reseau.example.org")
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_the_widget_script_is_served_as_javascript(client: Client) -> None:
    response = requests.get(f"{client.web_url}/widget.js", timeout=TIMEOUT)
    assert response.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in response.text, "the widget builds its DOM from text nodes only"
