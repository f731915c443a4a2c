"""Workshops in headless Chromium: a trainer opens one, a participant joins by its link, the dashboard follows."""

from __future__ import annotations

import requests
from playwright.sync_api import BrowserContext, Page, expect

from bot.diagnostic.questionnaire import load_questionnaire
from tests.browser.support import PageWatch, axe_violations, screenshot
from tests.browser.test_widget import choice, wait_for_question
from tests.conversation.test_diagnostic_flow import BUTTON_ANSWERS

TITLE = "Atelier « alliances locales » — Annecy"


def open_workshop(page: Page, web_url: str, title: str = TITLE) -> tuple[str, str, str]:
    """The trainer's page: a title, « Ouvrir l'atelier »; returns the code, the join and the dashboard links."""
    page.goto(f"{web_url}/ateliers")
    page.locator("#workshop-title").fill(title)
    page.locator("#workshop-submit").click()
    expect(page.locator("#workshop-created")).to_be_visible()
    code = page.locator("#workshop-code").inner_text().strip()
    join = page.locator("#join-link").get_attribute("href")
    dashboard = page.locator("#dashboard-link").get_attribute("href")
    assert join and dashboard
    return code, join, dashboard


def test_the_dashboard_updates_while_a_participant_finishes(
    context: BrowserContext, page: Page, watch: PageWatch, web_url: str
) -> None:
    survey = load_questionnaire()
    code, join, dashboard_url = open_workshop(page, web_url)
    assert join == f"{web_url}/?atelier={code}"
    expect(page.locator("#my-workshops li.workshop-item")).to_have_count(1)

    page.goto(dashboard_url)
    expect(page.locator("#workshop-title")).to_have_text(TITLE)
    expect(page.locator("#code")).to_have_text(code)
    expect(page.locator("#joined")).to_have_text("0")
    expect(page.locator("#finished")).to_have_text("0")

    participant = context.new_page()
    watch.attach(participant)
    participant.goto(join)
    expect(participant.locator(".fa-msg--bot .fa-bubble", has_text=f"Bienvenue dans l'atelier « {TITLE} »")).to_be_visible()
    wait_for_question(participant, 1)
    # The dashboard counts the participant without being reloaded (it polls every 3 s).
    expect(page.locator("#joined")).to_have_text("1", timeout=15_000)
    for position, question in enumerate(survey.questions, start=1):
        wait_for_question(participant, position)
        choice(participant, question.option(BUTTON_ANSWERS[question.id]).label).click()
    choice(participant, "C'est bon, voir mon résultat").click()  # after the recap of the answers
    expect(participant.locator(".fa-msg--bot .fa-bubble", has_text="Votre porte d'entrée recommandée")).to_be_visible()

    expect(page.locator("#finished")).to_have_text("1", timeout=15_000)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    door_row = page.locator("#doors-chart g.row").filter(has=page.locator("rect.bar[data-door]"))
    expect(door_row).to_have_count(len(survey.doors))
    counts = {row.locator("rect.bar").get_attribute("data-door"): (row.locator("text.value").text_content() or "").split()[0]
              for row in door_row.all()}
    sender = participant.evaluate("window.faireAlliance.conversationId()")
    door = requests.get(f"{web_url}/api/diagnostics/{sender}", timeout=30).json()["door"]
    assert counts == {door_id: "1" if door_id == door else "0" for door_id in counts}, counts
    expect(page.locator("#weakest")).not_to_have_text("—")
    screenshot(page, "workshop-dashboard", full_page=True)

    # Reloading the participant's page does not join a second time.
    participant.reload()
    expect(participant.locator(".fa-msg--bot .fa-bubble", has_text="Votre porte d'entrée recommandée")).to_be_visible()
    page.wait_for_timeout(3_500)
    expect(page.locator("#joined")).to_have_text("1")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#close-workshop").click()
    expect(page.locator("#state")).to_have_attribute("data-state", "closed")
    expect(page.locator("#finished")).to_have_text("1")
    watch.assert_clean()


def test_trainer_page_and_dashboard_have_no_serious_accessibility_violation(
    axe_context: BrowserContext, web_url: str
) -> None:
    page = axe_context.new_page()
    page.goto(f"{web_url}/ateliers")
    found = {"trainer page": axe_violations(page)}
    _, _, dashboard_url = open_workshop(page, web_url, "Atelier d'essai")
    found["trainer page with a workshop"] = axe_violations(page)
    page.goto(dashboard_url)
    expect(page.locator("#joined")).to_have_text("0")
    found["dashboard"] = axe_violations(page)
    assert {screen: violations for screen, violations in found.items() if violations} == {}
