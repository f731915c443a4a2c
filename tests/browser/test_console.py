"""The owner's console in headless Chromium: log in, read the overview and the funnel, label an inbox message, export.

The web app runs alone on a seeded database (tests/console_server.py: no Rasa needed). Each page is
saved to docs/screenshots/console-*.png, and axe-core must find no serious violation on any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import PageWatch, axe_violations
from tests.console_server import PASSWORD, ConsoleServer, console_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PERIOD = "debut=2026-11-02&fin=2026-11-15"
PAGES = {"overview": f"/admin/vue-ensemble?{PERIOD}", "funnel": f"/admin/entonnoir?{PERIOD}", "inbox": "/admin/boite",
         "gaps": f"/admin/lacunes?{PERIOD}", "feedback": f"/admin/avis?{PERIOD}", "exports": f"/admin/exports?{PERIOD}"}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("console-browser")) as running:
        yield running


@pytest.fixture()
def web_url(console: ConsoleServer) -> str:
    """The console's web app instead of the shared stack (see tests/browser/conftest.py)."""
    return console.url


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)


def log_in(page: Page, web_url: str) -> None:
    page.goto(f"{web_url}/admin")
    expect(page).to_have_url(f"{web_url}/admin/connexion")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1, name="Vue d'ensemble")).to_be_visible()


def test_log_in_read_label_and_export(page: Page, watch: PageWatch, web_url: str, tmp_path: Path) -> None:
    page.goto(f"{web_url}/admin/connexion")
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Ce mot de passe n'est pas le bon.")
    shot(page, "login")
    # The 401 of the wrong password was expected (Chromium logs it as a console error).
    watch.failed_responses.clear()
    watch.console_errors.clear()

    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1, name="Vue d'ensemble")).to_be_visible()
    page.get_by_label("Du", exact=True).fill("2026-11-02")
    page.get_by_label("Au", exact=True).fill("2026-11-15")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator("#figure-finished")).to_have_text("6")
    expect(page.locator("#figure-started")).to_have_text("13")
    expect(page.locator("#figure-conversations")).to_have_text("14")
    expect(page.locator("svg.chart rect[fill]").first).to_be_visible()
    shot(page, "overview")

    page.get_by_role("link", name="Entonnoir").click()
    expect(page).to_have_url(f"{web_url}/admin/entonnoir?{PERIOD}")
    row = page.locator('#funnel tr[data-question="size"]')
    expect(row.locator("td.reached")).to_have_text("12")
    expect(row.locator("td.left")).to_contain_text("3")
    shot(page, "funnel")

    page.get_by_role("link", name="Boîte de réception").click()
    group = page.locator("li.inbox-group").filter(has_text="groupement d'employeurs")
    group.get_by_label("Étiquette de ce groupe").select_option("answer:actor_type:accompagnement")
    group.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("2 messages mis à jour")
    labelled = page.locator("li.inbox-group").filter(has_text="groupement d'employeurs")
    expect(labelled.locator(".inbox-label")).to_contain_text("Un réseau ou une structure d'accompagnement")
    expect(page.locator("li.inbox-group").filter(has_text="<script>alert(1)</script>")).to_have_count(1)
    shot(page, "inbox")

    page.goto(f"{web_url}{PAGES['gaps']}")
    expect(page.locator("#gaps tbody tr")).to_have_count(2)
    shot(page, "gaps")
    page.goto(f"{web_url}{PAGES['feedback']}")
    expect(page.locator("#useful-rate")).to_have_text("60\u00a0%")
    shot(page, "feedback")

    page.goto(f"{web_url}{PAGES['exports']}")
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Télécharger : entonnoir").click()
    funnel_csv = (tmp_path / "funnel.csv")
    csv_download.value.save_as(funnel_csv)
    assert funnel_csv.read_text(encoding="utf-8-sig").startswith("position;question;arrives;partis_ici")
    with page.expect_download() as nlu_download:
        page.locator("#export-nlu").click()
    nlu = tmp_path / "nlu.yml"
    nlu_download.value.save_as(nlu)
    assert '"entity": "actor_type", "value": "accompagnement"' in nlu.read_text(encoding="utf-8")
    shot(page, "exports")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{web_url}/admin/connexion")
    watch.assert_clean()


def test_no_serious_accessibility_violation(axe_context: BrowserContext, web_url: str) -> None:
    page = axe_context.new_page()
    page.goto(f"{web_url}/admin/connexion")
    found = {"login": axe_violations(page)}
    log_in(page, web_url)
    for name, path in PAGES.items():
        page.goto(f"{web_url}{path}")
        found[name] = axe_violations(page)
    assert {name: violations for name, violations in found.items() if violations} == {}
