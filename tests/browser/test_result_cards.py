"""The result in the widget (cards for tools and examples) at desktop and mobile widths, and the report with
its action plan, on screen and printed (two A4 pages at most), with screenshots and axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bot.diagnostic.questionnaire import load_questionnaire
from tests.browser.support import PageWatch, axe_violations, screenshot
from tests.browser.test_widget import choice, conversation_id, open_demo, wait_for_question

ANSWERS = {
    "actor_type": "association", "size": "benevole", "scale": "local", "theme": "lien_social",
    "experience": "ponctuel", "partners": "associations", "organisation": "informel", "evaluation": "non",
    "resources": "temps", "support": "non", "goal": "territoire", "partners_wanted": "tous", "horizon": "moyen",
}  # fmt: skip
MAX_PRINTED_PAGES = 2


def answer_everything(page: Page) -> None:
    survey = load_questionnaire()
    choice(page, "Faire le diagnostic").click()
    for position, question in enumerate(survey.questions, start=1):
        wait_for_question(page, position)
        choice(page, question.option(ANSWERS[question.id]).label).click()
    choice(page, "C'est bon, voir mon résultat").click()  # after the recap of the answers
    expect(page.locator(".fa-card")).to_have_count(5)


def check_cards(page: Page) -> None:
    cards = page.locator(".fa-card")
    for index in range(5):
        card = cards.nth(index)
        expect(card.locator(".fa-card-name")).not_to_be_empty()
        expect(card.locator(".fa-card-description")).not_to_be_empty()
        expect(card.locator(".fa-card-reason")).to_contain_text("Pourquoi pour vous")
        expect(card.locator(".fa-card-source")).to_contain_text("source")
    panel = page.locator("#fa-panel").bounding_box()
    for index in range(5):
        box = cards.nth(index).bounding_box()
        assert panel and box and box["x"] >= panel["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"]
    first_bubble = page.locator(".fa-msg--bot .fa-bubble", has_text="Votre porte d'entrée recommandée").last
    assert len(first_bubble.inner_text()) <= 600


@pytest.mark.parametrize("size", [(1280, 900), (375, 740)], ids=["desktop", "mobile"])
def test_the_result_as_cards_in_the_widget(browser: Browser, web_url: str, size: tuple[int, int]) -> None:
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR",
                                  is_mobile=width < 600, has_touch=width < 600)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        watch = PageWatch(allowed_host=web_url.split("//", 1)[1])
        watch.attach(page)
        open_demo(page, web_url)
        answer_everything(page)
        check_cards(page)
        page.locator(".fa-cards").first.scroll_into_view_if_needed()
        screenshot(page, f"widget-result-cards-{'desktop' if width > 600 else 'mobile'}")
        watch.assert_clean()
    finally:
        context.close()


def test_the_report_with_its_action_plan_on_screen_and_printed(page: Page, watch: PageWatch, web_url: str,
                                                                 browser: Browser) -> None:
    open_demo(page, web_url)
    answer_everything(page)
    sender = conversation_id(page)
    page.goto(f"{web_url}/diagnostics/{sender}")
    body = page.locator("body")
    expect(body).to_contain_text("Votre plan d'action")
    expect(body).to_contain_text("Vers qui vous tourner")
    expect(page.locator(".pick-description")).to_have_count(5)
    expect(page.locator(".pick-reason")).to_have_count(5)
    expect(page.get_by_role("link", name="Refaire le diagnostic")).to_have_attribute(
        "href", re.compile(f"refaire={re.escape(sender)}$"))
    screenshot(page, "report-plan", full_page=True)
    page.emulate_media(media="print")
    screenshot(page, "report-plan-print", full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= MAX_PRINTED_PAGES, f"the printed report takes {pages} pages"
    watch.assert_clean()

    axe = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 720}, bypass_csp=True)
    try:
        checked = axe.new_page()
        checked.goto(f"{web_url}/diagnostics/{sender}")
        assert axe_violations(checked) == []
    finally:
        axe.close()


def test_the_cards_pass_axe(axe_context: BrowserContext, web_url: str) -> None:
    page = axe_context.new_page()
    open_demo(page, web_url)
    answer_everything(page)
    assert axe_violations(page) == []


def test_refaire_from_the_report_compares_with_it(page: Page, web_url: str) -> None:
    open_demo(page, web_url)
    answer_everything(page)
    first = conversation_id(page)
    page.evaluate("window.faireAlliance.restart()")
    page.goto(f"{web_url}/?refaire={first}")
    wait_for_question(page, 1)
    for position, question in enumerate(load_questionnaire().questions, start=1):
        wait_for_question(page, position)
        label = question.option("impact" if question.id == "evaluation" else ANSWERS[question.id]).label
        choice(page, label).click()
    choice(page, "C'est bon, voir mon résultat").click()
    expect(page.locator(".fa-msg--bot .fa-bubble", has_text="Depuis votre diagnostic du")).to_be_visible()
    assert conversation_id(page) != first
