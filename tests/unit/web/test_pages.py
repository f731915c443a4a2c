"""Tests of the page templates (bot.web.pages): escaping, missing variables, the Content-Security-Policy."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest

from bot.console.figures import Bucket, Overview
from bot.console.funnel import FunnelStep
from bot.console.listening import Comment, FeedbackSummary
from bot.console.period import Period, local_date
from bot.diagnostic.questionnaire import load_questionnaire
from bot.web import pages
from bot.web.chart import chart_view
from bot.web.console_views import horizontal_bars, overview_view, percent_text

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "bot" / "web"
SCRIPT_PAYLOAD = "<script>alert(1)</script>"
ATTRIBUTE_PAYLOAD = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT_PAYLOAD, ATTRIBUTE_PAYLOAD)

DATE = {"iso": "2026-11-22", "text": "22 novembre 2026"}
CHART = chart_view({"experience": 67, "organisation": 33, "evaluation": 0, "moyens": 50}, load_questionnaire())
SECTIONS = [{"label": "Votre profil", "answers": [{"question": "Vous représentez…", "label": "Une association"}]}]
PICKS = [{"name": "Un outil", "url": "https://example.org/outil", "description": "Un guide pratique.",
          "reason": "Parce que", "source": "Un guide, l. 3"},
         {"name": "Un autre", "url": None, "description": None, "reason": None, "source": None}]
STEPS = [{"title": "Faites le point", "text": "Réunissez vos partenaires.", "source": "Un guide, l. 4", "tool": PICKS[0]},
         {"title": "Écrivez", "text": None, "source": None, "tool": None}]
PROGRESS = {"date": DATE, "rows": [{"label": "Niveau", "before": "Découverte", "after": "Habitude"}]}

# Every template with a context that uses each of its variables (so that each one is checked when missing).
CONTEXTS: dict[str, dict[str, Any]] = {
    "base.html": {},
    "index.html": {},
    "trainer.html": {},
    "dashboard.html": {},
    "workshop_not_found.html": {},
    "report_parts.html": {},
    "report_layout.html": {"root": "/alliance"},
    "chart.svg": {"chart": {**CHART, "standalone": True}},
    "report.html": {
        "root": "/alliance",
        "date": DATE,
        "door": {"label": "La co-construction territoriale", "meaning": "Relever ensemble les défis locaux."},
        "reasons": ["Vous êtes une collectivité"],
        "runner_up": {"label": "La contribution aux ODD", "meaning": "Prendre les ODD comme cadre."},
        "level": {"label": "Habitude", "meaning": "Les partenariats deviennent une habitude."},
        "maturity": 44,
        "points": {"earned": 8, "max": 18},
        "chart": CHART,
        "chart_url": "/alliance/diagnostics/conv-1/chart.svg",
        "weakest": {"label": "Évaluation", "percent": 0},
        "unanswered": 2,
        "nsp_label": "Je ne sais pas",
        "tools": PICKS,
        "examples": [],
        "steps": STEPS,
        "support": PICKS,
        "progress": PROGRESS,
        "restart_url": "/alliance/?refaire=conv-1",
        "sections": SECTIONS,
        "reference": "conv-1",
    },
    "report_unfinished.html": {
        "root": "", "abandoned": False, "answered": 5, "total": 13, "date": DATE, "sections": SECTIONS,
        "reference": "conv-1",
    },
    "report_not_found.html": {"root": "", "reference": "conv-1"},
}

# The owner's console (console_*.html): the shared parts, then each page.
_PERIOD = Period(date(2026, 11, 2), date(2026, 11, 15))
_OVERVIEW = Overview(period=_PERIOD, conversations=14, started=13, started_completed=6, finished=6,
                     doors={"territoire": 2, "odd": 4}, levels={"habitude": 6},
                     dimensions={"experience": 50.0, "organisation": 33.3, "evaluation": None, "moyens": 0.0},
                     workshops=1, workshop_participants=3,
                     buckets=[Bucket(date(2026, 11, 2), "2 novembre", {"territoire": 2}, {"habitude": 2})])
_STEPS = [FunnelStep("actor_type", 1, "Vous représentez…", 12, 1, 3, 9, 2, 1)]
_SESSION = {"csrf": "jeton", "navigation": [["vue-ensemble", "Vue d'ensemble"], ["boite", "Boîte de réception"]],
            "current": "boite"}
_CHOSEN = {**_SESSION, "period_first": "2026-11-02", "period_last": "2026-11-15", "period_text": "du 2 au 15 novembre",
           "period_error": "Une erreur", "period_query": "debut=2026-11-02&fin=2026-11-15"}
_WHEN = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
CONTEXTS.update({
    "console_charts.html": {},
    "console_layout.html": _SESSION,
    "console_login.html": {"csrf": "jeton", "message": "Ce mot de passe n'est pas le bon."},
    "console_error.html": {"message": "Ce formulaire a expiré."},
    "console_overview.html": {**_CHOSEN, "data": _OVERVIEW, "view": overview_view(_OVERVIEW, load_questionnaire())},
    "console_funnel.html": {**_CHOSEN, "steps": _STEPS, "percent": percent_text,
                            "chart": horizontal_bars("Arrivés", [("1. Vous représentez…", 12, "12")], 12)},
    "console_inbox.html": {
        **_SESSION, "total": 3, "unlabelled": 2, "page": 1, "pages": 2, "done": 2, "local_date": local_date,
        "groups": [{"message_id": 7, "count": 2, "text": "un groupement d'employeurs", "question_id": "actor_type",
                    "last_at": _WHEN, "label_kind": "answer", "label_value": "answer:actor_type:autre"}],
        "questions": {"actor_type": [1, "Vous représentez…"]},
        "choices": [{"label": "Réponse à la question 1", "question_id": "actor_type",
                     "options": [{"value": "answer:actor_type:autre", "label": "Autre"}]}],
        "label_names": {"answer:actor_type:autre": "Question 1 → Autre"},
    },
    "console_gaps.html": {**_CHOSEN, "total": 2, "local_date": local_date,
                          "gaps": [{"count": 2, "text": "le label lucie", "last_at": _WHEN}]},
    "console_feedback.html": {
        **_CHOSEN, "local_date": local_date, "percent": percent_text, "doors": {"odd": "La contribution aux ODD"},
        "levels": {"habitude": "Habitude"},
        "summary": FeedbackSummary(2, 1, [Comment(True, "clair", "odd", "habitude", _WHEN)], {"odd": (2, 1)}),
    },
    "console_exports.html": {**_CHOSEN, "exports": {"avis": "avis"}},
})
PAGES = [name for name in CONTEXTS if name.endswith((".html", ".svg"))]


def with_payload(value: Any, payload: str) -> Any:
    """``value`` with ``payload`` appended to every string in it, at any depth."""
    if isinstance(value, str):
        return value + payload
    if isinstance(value, dict):
        return {key: with_payload(item, payload) for key, item in value.items()}
    if isinstance(value, list):
        return [with_payload(item, payload) for item in value]
    return value


class _Markup(HTMLParser):
    """Start tags with their attributes, and the text inside each <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_code: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline_code.append(data)


def markup_of(page: str) -> _Markup:
    parser = _Markup()
    parser.feed(page)
    parser.close()
    return parser


def assert_csp_safe(page: str, *, data: bool = False) -> None:
    """Nothing the strict Content-Security-Policy would block (``data``: the page shows hostile text)."""
    if not data:
        assert "style=" not in page
        assert not re.search(r"\son\w+\s*=", page), "an on…= attribute"
    found = markup_of(page)
    assert found.inline_code == [], "an inline <script> or <style> with content"
    for tag, attrs in found.tags:
        assert tag != "style", "a <style> element"
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        if tag == "script":
            assert attrs.get("src"), "a <script> without src"


# ------------------------------------------------------------------ environment


def test_one_environment_that_escapes_and_refuses_missing_variables() -> None:
    env = pages.environment()
    assert env is pages.environment(), "built once per process"
    assert env.autoescape is True
    assert env.undefined is jinja2.StrictUndefined
    assert env.from_string("{{ x }}").render(x=SCRIPT_PAYLOAD) == escape(SCRIPT_PAYLOAD, quote=True).replace(
        "&#x27;", "&#39;")


def test_nothing_is_built_at_import_time() -> None:
    probe = "import bot.web.pages as p, bot.web.report, bot.web.app; print(p.environment.cache_info().currsize)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"


def test_every_template_has_a_sample_context() -> None:
    assert sorted(pages.environment().list_templates()) == sorted(CONTEXTS)


@pytest.mark.parametrize("name", PAGES)
def test_every_template_renders(name: str) -> None:
    page = pages.render(name, **copy.deepcopy(CONTEXTS[name]))
    if name not in ("report_parts.html", "chart.svg", "console_charts.html"):
        assert page.startswith("<!DOCTYPE html>\n<html lang=\"fr\"")
        assert '<meta charset="utf-8">' in page and 'name="viewport"' in page
        assert re.search(r"<title>[^<]+</title>", page) or name == "base.html"
    assert_csp_safe(page)


@pytest.mark.parametrize("name", [name for name in PAGES if CONTEXTS[name]])
def test_a_missing_variable_is_an_error(name: str) -> None:
    for key in CONTEXTS[name]:
        context = {other: value for other, value in copy.deepcopy(CONTEXTS[name]).items() if other != key}
        with pytest.raises(jinja2.UndefinedError):
            pages.render(name, **context)


# --------------------------------------------------------------------- escaping


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("name", [name for name in PAGES if CONTEXTS[name]])
def test_every_value_is_escaped(name: str, payload: str) -> None:
    page = pages.render(name, **with_payload(copy.deepcopy(CONTEXTS[name]), payload))
    assert payload not in page
    assert escape(payload, quote=True) in page, "escaped as html.escape does"
    found = markup_of(page)
    assert not [tag for tag, _ in found.tags if tag == "img"]
    assert not [attrs for _, attrs in found.tags if "onerror" in attrs]
    assert_csp_safe(page, data=True)


def test_pages_without_data_ignore_what_they_are_given() -> None:
    for name in ("index.html", "trainer.html", "dashboard.html", "workshop_not_found.html"):
        assert pages.render(name, title=SCRIPT_PAYLOAD) == pages.render(name)


def test_escaping_is_never_turned_off() -> None:
    """Only markup written in the templates is not escaped: no |safe, no Markup, no autoescape false."""
    for path in sorted((WEB / "templates").iterdir()):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", text), path.name
    for path in sorted(WEB.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"Markup\(|^\s*(from|import) markupsafe\b", text, re.MULTILINE), path.name


def test_the_entities_are_those_of_html_escape() -> None:
    page = pages.render("report_not_found.html", root="", reference="l'id \"x\" &#39;")
    assert "l&#x27;id &quot;x&quot; &amp;#39;" in page


# ------------------------------------------------------------------------ pages


def test_the_pages_keep_what_their_scripts_use() -> None:
    index = pages.render("index.html")
    assert '<script src="/widget.js" defer data-open="true"></script>' in index
    assert '<link rel="stylesheet" href="/static/site.css">' in index
    trainer = pages.render("trainer.html")
    assert '<body class="trainer">' in trainer and '<script src="/static/trainer.js" defer></script>' in trainer
    for needed in ('id="workshop-form"', 'id="workshop-created"', 'data-copy="join-link"', 'id="my-workshops"'):
        assert needed in trainer, needed
    dashboard = pages.render("dashboard.html")
    assert '<html lang="fr" class="dashboard-root">' in dashboard and '<body class="dashboard">' in dashboard
    for needed in ('id="state" class="state" data-state="loading"', 'id="doors-chart"', 'id="results"',
                   'id="close-workshop"', '<script src="/static/dashboard.js" defer></script>'):
        assert needed in dashboard, needed
    for name in ("trainer.html", "dashboard.html", "workshop_not_found.html"):
        assert '<meta name="robots" content="noindex">' in pages.render(name)


def test_the_html_pages_are_templates_only() -> None:
    assert not list((WEB / "static").glob("*.html"))
