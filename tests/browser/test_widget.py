"""The widget and the report in headless Chromium, on the shared test stack.

A whole diagnostic by clicking (one answer typed, a reload in the middle), the
report opened from the result, keyboard use, the mobile layout, an embedding on
another site, bad input shown as text, and axe-core on every screen.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from bot.diagnostic.questionnaire import load_questionnaire
from tests.browser.support import PageWatch, axe_violations, screenshot
from tests.conversation.test_diagnostic_flow import BUTTON_ANSWERS

TYPED_QUESTION = ("experience", "on n'a jamais fait de partenariat", "aucun")
RELOAD_AFTER = 6  # questions answered before the page is reloaded
WIDGET = "#faire-alliance-widget"


def last_bot_message(page: Page) -> Locator:
    return page.locator(".fa-msg--bot").last


def choice(page: Page, title: str) -> Locator:
    """The button of that title in the newest group of answers."""
    return page.locator(".fa-choices").last.locator("button.fa-choice", has_text=re.compile(f"^{re.escape(title)}$"))


def progress(page: Page) -> Locator:
    return page.locator(".fa-progress")


def wait_for_question(page: Page, position: int) -> None:
    expect(progress(page)).to_have_attribute("aria-valuenow", str(position))
    expect(page.locator(".fa-typing")).to_have_attribute("data-active", "false")


def type_message(page: Page, text: str) -> None:
    field = page.locator("#fa-input")
    field.fill(text)
    field.press("Enter")


def open_demo(page: Page, web_url: str) -> None:
    page.goto(web_url + "/")
    expect(choice(page, "Faire le diagnostic")).to_be_visible()


def conversation_id(page: Page) -> str:
    return page.evaluate("window.faireAlliance.conversationId()")


def test_a_whole_diagnostic_in_the_widget_then_the_report(
    page: Page, context: BrowserContext, watch: PageWatch, web_url: str
) -> None:
    survey = load_questionnaire()
    open_demo(page, web_url)
    sender = conversation_id(page)
    choice(page, "Faire le diagnostic").click()
    expected = dict(BUTTON_ANSWERS)
    for position, question in enumerate(survey.questions, start=1):
        wait_for_question(page, position)
        expect(page.locator(".fa-progress-text")).to_have_text(f"Question {position} / 13")
        if question.id == TYPED_QUESTION[0]:
            type_message(page, TYPED_QUESTION[1])
            expected[question.id] = TYPED_QUESTION[2]
        else:
            choice(page, question.option(BUTTON_ANSWERS[question.id]).label).click()
        if position == RELOAD_AFTER:
            wait_for_question(page, position + 1)
            shown = page.locator(".fa-msg").count()
            page.reload()
            expect(page.locator(".fa-msg")).to_have_count(shown)
            assert conversation_id(page) == sender, "the reload kept the conversation"
    expect(page.locator(".fa-msg--bot .fa-bubble", has_text="Avant votre résultat")).to_be_visible()
    choice(page, "C'est bon, voir mon résultat").click()
    expect(page.locator(".fa-msg--bot .fa-bubble", has_text="Votre porte d'entrée recommandée")).to_be_visible()
    expect(progress(page)).to_be_hidden()
    chart = page.locator("img.fa-image").last
    expect(chart).to_be_visible()
    assert chart.evaluate("image => image.complete && image.naturalWidth > 0"), "the chart image loaded"
    screenshot(page, "widget-result")

    state = requests.get(f"{web_url}/api/diagnostics/{sender}", timeout=30).json()
    assert state["status"] == "completed"
    for question_id, answer in expected.items():
        stored = state["answers"][question_id]
        assert stored == answer or stored == [answer], (question_id, stored)

    with context.expect_page() as opened:
        # The result's messages, then « Ce résultat vous est-il utile ? »: the link is in the result's last message.
        report_link = page.get_by_role("link", name="voir le rapport")
        page.locator(".fa-msg--bot").filter(has=report_link).last.get_by_role("link", name="voir le rapport").click()
    report = opened.value
    watch.attach(report)
    report.wait_for_load_state()
    assert report.url == f"{web_url}/diagnostics/{sender}"
    door = survey.door(state["door"]).label
    expect(report.locator("h1")).to_be_visible()
    expect(report.locator("body")).to_contain_text(door)
    expect(report.locator("body")).to_contain_text(survey.level(state["level"]).label)
    expect(report.locator("svg .bar")).to_have_count(4)
    for item in state["tools"] + state["examples"]:
        expect(report.locator("body")).to_contain_text(item["name"])
    screenshot(report, "report", full_page=True)
    report.emulate_media(media="print")
    expect(report.locator(".print-button")).to_be_hidden()
    screenshot(report, "report-print", full_page=True)
    watch.assert_clean()


def test_bad_input_is_shown_as_text(page: Page, watch: PageWatch, web_url: str) -> None:
    open_demo(page, web_url)
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>gras</b>'
    long_text = "a" * 10_000
    emoji = "🤝🌍✨"
    for text in (hostile, long_text, emoji):
        before = page.locator(".fa-msg--bot").count()
        type_message(page, text)
        expect(page.locator(".fa-msg--user .fa-bubble").last).to_have_text(text)
        expect(page.locator(".fa-msg--bot")).not_to_have_count(before)
        expect(page.locator(".fa-typing")).to_have_attribute("data-active", "false")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    log = page.locator(".fa-log")
    assert log.locator("script, b, img:not(.fa-image)").count() == 0, "nothing typed became markup"
    panel = page.locator("#fa-panel").bounding_box()
    long_bubble = page.locator(".fa-msg--user .fa-bubble", has_text="aaaa").bounding_box()
    assert panel and long_bubble and long_bubble["width"] <= panel["width"], "10 000 characters wrap in the panel"
    screenshot(page, "widget-bad-input")
    watch.assert_clean()


def test_keyboard_only_and_restart(page: Page, watch: PageWatch, web_url: str) -> None:
    open_demo(page, web_url)
    first = conversation_id(page)
    page.locator("#fa-input").focus()
    page.keyboard.press("Escape")
    expect(page.locator("#fa-panel")).to_be_hidden()
    launcher = page.locator("button.fa-launcher")
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.locator("#fa-panel")).to_be_visible()
    # Tab reaches the answer buttons; Enter on one answers like a click.
    start_button = choice(page, "Faire le diagnostic")
    for _ in range(30):
        page.keyboard.press("Tab")
        if start_button.evaluate("button => button.getRootNode().activeElement === button"):
            break
    else:
        pytest.fail("Tab never reached the « Faire le diagnostic » button")
    page.keyboard.press("Enter")
    wait_for_question(page, 1)
    expect(page.locator(".fa-choices").last.locator("button.fa-choice").first).to_be_focused()
    page.locator(".fa-restart").click()
    expect(page.locator(".fa-msg--user")).to_have_count(0)
    expect(choice(page, "Faire le diagnostic")).to_be_visible()
    expect(progress(page)).to_be_hidden()
    assert conversation_id(page) != first, "« Recommencer » starts a new conversation"
    watch.assert_clean()


def test_mobile_layout_fills_the_screen(browser: Browser, web_url: str) -> None:
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, locale="fr-FR")
    try:
        page = phone.new_page()
        watch = PageWatch(allowed_host=web_url.split("//", 1)[1])
        watch.attach(page)
        open_demo(page, web_url)
        box = page.locator("#fa-panel").bounding_box()
        assert box and box["width"] >= 370 and box["height"] >= 700, box
        screenshot(page, "widget-mobile")
        watch.assert_clean()
    finally:
        phone.close()


@pytest.fixture()
def other_site(web_url: str) -> Iterator[str]:
    """A page of another origin (another port) that embeds the widget with one <script> tag."""
    host_page = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Une association</title></head>'
        "<body><main><h1>Le site d'une association</h1></main>"
        f'<script src="{web_url}/widget.js" data-title="Notre assistant" data-color="#7a1f5c" defer></script>'
        "</body></html>"
    ).encode()

    class HostPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(host_page)))
            self.end_headers()
            self.wfile.write(host_page)

        def log_message(self, *_args: object) -> None:
            pass

    # A real server on the loopback: Chromium refuses a page it considers public calling a loopback address.
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_script_tag_works_on_another_site(context: BrowserContext, other_site: str, web_url: str) -> None:
    """One <script> tag on a page of another origin: the widget talks to our server (CORS) and nowhere else."""
    page = context.new_page()
    watch = PageWatch(allowed_host=web_url.split("//", 1)[1])
    watch.attach(page)
    page.goto(f"{other_site}/")
    page.locator("button.fa-launcher").click()
    expect(page.locator("h2.fa-title")).to_have_text("Notre assistant")
    choice(page, "Faire le diagnostic").click()
    wait_for_question(page, 1)
    assert page.evaluate("Object.keys(localStorage)") == [f"faire-alliance:{web_url}"]
    watch.foreign_requests.remove(f"{other_site}/")
    watch.assert_clean()


def test_no_serious_accessibility_violation(axe_context: BrowserContext, web_url: str) -> None:
    survey = load_questionnaire()
    page = axe_context.new_page()
    open_demo(page, web_url)
    found = {"demo page and widget": axe_violations(page)}
    choice(page, "Faire le diagnostic").click()
    wait_for_question(page, 1)
    found["widget in the questionnaire"] = axe_violations(page)
    sender = conversation_id(page)
    for position, question in enumerate(survey.questions, start=1):
        wait_for_question(page, position)
        choice(page, question.option(BUTTON_ANSWERS[question.id]).label).click()
    expect(page.locator(".fa-msg--bot .fa-bubble", has_text="Avant votre résultat")).to_be_visible()
    found["widget with the recap"] = axe_violations(page)
    choice(page, "C'est bon, voir mon résultat").click()
    expect(page.locator("img.fa-image")).to_be_visible()
    found["widget with the result"] = axe_violations(page)
    page.goto(f"{web_url}/diagnostics/{sender}")
    found["report"] = axe_violations(page)
    page.goto(f"{web_url}/diagnostics/inconnu")
    found["report not found"] = axe_violations(page)
    assert {screen: violations for screen, violations in found.items() if violations} == {}


def test_delete_my_data_clears_the_widget_and_the_server(page: Page, watch: PageWatch, web_url: str) -> None:
    open_demo(page, web_url)
    choice(page, "Faire le diagnostic").click()
    wait_for_question(page, 1)
    first = conversation_id(page)
    assert requests.get(f"{web_url}/api/diagnostics/{first}", timeout=30).status_code == 200
    type_message(page, "supprimer mes données")
    # The confirmation comes with its buttons, then the question again with its own: click the confirmation's.
    page.locator("button.fa-choice", has_text="Oui, tout effacer").last.click()
    expect(page.locator(".fa-msg")).to_have_count(1)
    expect(page.locator(".fa-msg--bot .fa-bubble")).to_contain_text("sont effacés")
    expect(progress(page)).to_be_hidden()
    assert conversation_id(page) != first, "the next message starts a new conversation"
    assert requests.get(f"{web_url}/api/diagnostics/{first}", timeout=30).status_code == 404
    page.reload()
    expect(page.locator(".fa-msg")).to_have_count(1)
    watch.assert_clean()
