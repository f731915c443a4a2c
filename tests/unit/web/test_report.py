"""Tests of the printable report page and its chart (bot.web.report), with the real questionnaire."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.diagnostic.questionnaire import DEFAULT_PATH, Questionnaire, load_questionnaire
from bot.diagnostic.scoring import compute_result
from bot.knowledge.lookup import source_titles
from bot.knowledge.model import Entry, load_catalogue
from bot.web.report import (
    CHART_BAR_MAX,
    french_date,
    render_dimension_chart,
    render_not_found,
    render_report,
    safe_url,
)

STATIC = Path(__file__).resolve().parents[3] / "bot" / "web" / "static"
SVG_NS = "{http://www.w3.org/2000/svg}"
NBSP = "\u00a0"

SCRIPT_PAYLOAD = "<script>alert(1)</script>"
ATTRIBUTE_PAYLOAD = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT_PAYLOAD, ATTRIBUTE_PAYLOAD)

# A full, valid set of answers: a local authority, one « je ne sais pas », a list answer.
ANSWERS: dict[str, Any] = {
    "actor_type": "collectivite",
    "size": "pme",
    "scale": "local",
    "theme": "sante",
    "experience": "habitude",
    "partners": ["publics", "entreprises"],
    "organisation": "convention",
    "evaluation": "nsp",
    "resources": "referent",
    "support": "connait",
    "goal": "territoire",
    "partners_wanted": "tous",
    "horizon": "long",
}


@pytest.fixture(scope="module")
def survey() -> Questionnaire:
    return load_questionnaire()


@pytest.fixture(scope="module")
def picks(survey: Questionnaire) -> dict[str, list[dict[str, Any]]]:
    """Three tools (one with an http(s) url) and two examples, stored as actions.results.as_json does."""
    catalogue = load_catalogue(survey)

    def as_json(entry: Entry) -> dict[str, Any]:
        return {"id": entry.id, "name": entry.title, "url": entry.get("url"), "reason": f"Conseillé pour {entry.id}",
                "source": str(entry.source)}

    tools = catalogue.of("tool")
    with_url = next(entry for entry in tools if str(entry.get("url") or "").startswith("http"))
    chosen = [with_url] + [entry for entry in tools if entry.id != with_url.id][:2]
    return {"tools": [as_json(entry) for entry in chosen],
            "examples": [as_json(entry) for entry in catalogue.of("example")[:2]]}


def completed_state(survey: Questionnaire, picks: dict[str, list[dict[str, Any]]], **changes: Any) -> dict[str, Any]:
    """A state as bot.store.diagnostics.get_state returns it for a finished diagnostic."""
    result = compute_result(survey, ANSWERS).to_dict()
    state = {
        "conversation_id": "conv-42",
        "status": "completed",
        "answers": dict(ANSWERS),
        "answered": list(ANSWERS),
        "current_question": None,
        "progress": {"answered": len(ANSWERS), "total": survey.total, "percent": 100},
        "started_at": "2026-11-22T09:50:00+00:00",
        "updated_at": "2026-11-22T10:00:00+00:00",
        "completed_at": "2026-11-22T10:00:00+00:00",
        **result,
        "tools": [dict(item) for item in picks["tools"]],
        "examples": [dict(item) for item in picks["examples"]],
    }
    state.update(changes)
    return state


def in_progress_state(survey: Questionnaire, answered: int, status: str = "in_progress") -> dict[str, Any]:
    answers = {qid: ANSWERS[qid] for qid in survey.question_ids[:answered]}
    return {
        "conversation_id": "conv-7",
        "status": status,
        "answers": answers,
        "answered": list(answers),
        "current_question": survey.question_ids[answered] if answered < survey.total else None,
        "progress": {"answered": answered, "total": survey.total, "percent": round(100 * answered / survey.total)},
        "started_at": "2026-11-22T09:50:00+00:00",
        "updated_at": "2026-11-22T10:00:00+00:00",
        "completed_at": None,
    }


def pct(value: int) -> str:
    return f"{value}{NBSP}%"


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.tags


def assert_csp_safe(page: str) -> None:
    """Nothing the strict CSP would block: no inline style or script, no event handler attribute."""
    assert "style=" not in page
    for tag, attrs in tags_of(page):
        assert tag != "style"
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        if tag == "script":
            assert attrs.get("src"), "inline <script> without src"
    for opening in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in opening


def inline_svg(page: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert match, "no inline SVG chart"
    return ET.fromstring(match.group(0))


def links(page: str) -> list[str]:
    return [attrs["href"] or "" for tag, attrs in tags_of(page) if tag == "a" and "href" in attrs]


# --------------------------------------------------------------- completed report


def test_report_shows_door_reasons_and_runner_up(survey: Questionnaire, picks: dict) -> None:
    state = completed_state(survey, picks)
    page = render_report(state, survey)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in page
    assert "<title>Votre diagnostic — Apprendre à faire alliance</title>" in page
    door = survey.door(state["door"])
    assert state["door"] == "territoire"  # the answers above point clearly to it
    assert escape(door.label) in page
    assert escape(door.meaning) in page
    assert len(state["reasons"]) >= 2
    for reason in state["reasons"]:
        assert escape(reason[1:]) in page
    runner_up = survey.door(state["runner_up"])
    assert f"À explorer ensuite : <strong>{escape(runner_up.label)}</strong>" in page


def test_report_shows_level_dimensions_and_weakest(survey: Questionnaire, picks: dict) -> None:
    state = completed_state(survey, picks)
    page = render_report(state, survey)
    level = survey.level(state["level"])
    assert f'<strong class="level-label">{escape(level.label)}</strong>' in page
    assert pct(state["maturity"]) in page
    assert escape(level.meaning) in page
    assert len(state["dimensions"]) == 4
    for dimension in survey.dimensions:
        # The table repeats the chart's figures as text, for screen readers and print.
        row = f'<th scope="row">{escape(dimension.label)}</th><td>{pct(state["dimensions"][dimension.id])}</td>'
        assert row in page
    weakest = survey.dimension(state["weakest_dimension"])
    assert f"Point à travailler en priorité : <strong>{escape(weakest.label)}</strong>" in page
    assert "1 question est restée sans réponse" in page  # evaluation: nsp


def test_report_shows_tools_and_examples_with_reason_and_source(survey: Questionnaire, picks: dict) -> None:
    page = render_report(completed_state(survey, picks), survey)
    titles = source_titles()
    assert len(picks["tools"]) == 3 and len(picks["examples"]) == 2
    for item in picks["tools"] + picks["examples"]:
        assert escape(item["name"]) in page
        assert escape(item["reason"]) in page
        seed, lines = item["source"].split(" L")
        assert f"Source : {escape(titles[seed])}, l. {lines.replace('-', '–')}" in page
    linked = picks["tools"][0]
    assert linked["url"] in links(page)
    assert f'<a href="{escape(linked["url"])}">{escape(linked["name"])}</a>' in page


def test_report_lists_the_answers_given(survey: Questionnaire, picks: dict) -> None:
    page = render_report(completed_state(survey, picks), survey)
    for question_id in ("actor_type", "theme", "goal", "horizon"):
        question = survey.question(question_id)
        option = question.option(ANSWERS[question_id])
        assert f"<dt>{escape(question.text)}</dt>\n<dd>{escape(option.label)}</dd>" in page
    evaluation = survey.question("evaluation")
    assert f"<dt>{escape(evaluation.text)}</dt>\n<dd>Je ne sais pas</dd>" in page
    partners = survey.question("partners")
    listed = " ; ".join(escape(partners.option(oid).label) for oid in ANSWERS["partners"])
    assert f"<dt>{escape(partners.text)}</dt>\n<dd>{listed}</dd>" in page
    for section in survey.sections:
        assert f"<h3>{escape(section.label)}</h3>" in page


def test_report_has_date_privacy_note_and_print_button(survey: Questionnaire, picks: dict) -> None:
    page = render_report(completed_state(survey, picks), survey)
    assert '<time datetime="2026-11-22">22 novembre 2026</time>' in page
    assert "servent seulement à établir votre diagnostic" in page
    assert "Nous conservons vos réponses" in page
    buttons = [attrs for tag, attrs in tags_of(page) if tag == "button"]
    assert len(buttons) == 1 and buttons[0].get("data-action") == "print"
    assert ">Imprimer / PDF</button>" in page
    assert '<link rel="stylesheet" href="/static/report.css">' in page
    assert '<script src="/static/report.js" defer></script>' in page
    assert_csp_safe(page)


def test_base_path_prefixes_assets_and_links(survey: Questionnaire, picks: dict) -> None:
    page = render_report(completed_state(survey, picks), survey, base_path="/alliance/")
    assert 'href="/alliance/static/report.css"' in page
    assert 'src="/alliance/static/report.js"' in page
    assert "/alliance/" in links(page)
    assert "/alliance/diagnostics/conv-42/chart.svg" in links(page)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T10:00:00+00:00", "22 novembre 2026"),
        ("2026-03-01T08:00:00+00:00", "1er mars 2026"),
        ("2026-08-15T12:00:00", "15 août 2026"),  # naive: read as UTC
        ("2026-12-31T23:30:00+00:00", "1er janvier 2027"),  # already the next day in Paris
        ("2026-02-10T23:30:00+00:00", "11 février 2026"),
        ("pas une date", None),
        (None, None),
    ],
)
def test_french_date(value: object, expected: str | None) -> None:
    assert french_date(value) == expected


# -------------------------------------------------------------------------- chart


def test_chart_has_four_bars_proportional_to_the_percentages(survey: Questionnaire) -> None:
    dimensions = {"experience": 100, "organisation": 33, "evaluation": 0, "moyens": 50}
    svg = ET.fromstring(render_dimension_chart(dimensions, survey))
    assert svg.get("role") == "img"
    assert svg.find("title") is not None and "dimension" in (svg.find("title").text or "")
    desc = svg.find("desc").text or ""
    bars = [rect for rect in svg.iter("rect") if rect.get("class") == "bar"]
    assert len(bars) == 4
    groups = [group for group in svg.iter("g") if group.get("class") == "dimension"]
    assert [group.get("data-dimension") for group in groups] == [d.id for d in survey.dimensions]
    for dimension, group in zip(survey.dimensions, groups):
        value = dimensions[dimension.id]
        bar = next(rect for rect in group.iter("rect") if rect.get("class") == "bar")
        assert float(bar.get("width")) == pytest.approx(CHART_BAR_MAX * value / 100)
        texts = ["".join(text.itertext()) for text in group.iter("text")]
        assert dimension.label in texts and pct(value) in texts
        assert f"{dimension.label} : {pct(value)}" in desc
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[0] == pytest.approx(2 * widths[3])  # 100 % is twice 50 %
    assert widths[2] == 0
    assert all(bar.get("x") == bars[0].get("x") for bar in bars)  # bars start on the same axis


def test_chart_of_the_report_matches_the_result(survey: Questionnaire, picks: dict) -> None:
    state = completed_state(survey, picks)
    svg = inline_svg(render_report(state, survey))
    bars = {group.get("data-dimension"): float(next(r for r in group.iter("rect") if r.get("class") == "bar")
                                               .get("width"))
            for group in svg.iter("g") if group.get("class") == "dimension"}
    assert bars == {key: pytest.approx(CHART_BAR_MAX * value / 100) for key, value in state["dimensions"].items()}


def test_standalone_chart_is_an_svg_document(survey: Questionnaire) -> None:
    chart = render_dimension_chart({"experience": 67, "organisation": 33, "evaluation": 0, "moyens": 50}, survey,
                                   standalone=True)
    assert chart.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    svg = ET.fromstring(chart)
    assert svg.tag == f"{SVG_NS}svg"
    assert svg.find(f"{SVG_NS}title") is not None and svg.find(f"{SVG_NS}desc") is not None
    assert len([r for r in svg.iter(f"{SVG_NS}rect") if r.get("class") == "bar"]) == 4
    background = [r for r in svg.iter(f"{SVG_NS}rect") if r.get("class") == "background"]
    assert background and background[0].get("fill") == "#ffffff"
    assert "style=" not in chart
    assert "xmlns" not in render_dimension_chart({}, survey)  # inline: the HTML parser sets the namespace


def test_chart_clamps_values_it_cannot_trust(survey: Questionnaire) -> None:
    svg = ET.fromstring(render_dimension_chart({"experience": 250, "organisation": -10, "evaluation": "x"}, survey))
    widths = {g.get("data-dimension"): float(next(r for r in g.iter("rect") if r.get("class") == "bar").get("width"))
              for g in svg.iter("g")}
    assert widths == {"experience": CHART_BAR_MAX, "organisation": 0, "evaluation": 0, "moyens": 0}


def test_chart_uses_presentation_attributes_with_contrast(survey: Questionnaire) -> None:
    chart = render_dimension_chart({"experience": 50}, survey)
    assert "style=" not in chart
    svg = ET.fromstring(chart)
    for element in svg.iter():
        if element.tag in ("rect", "text"):
            assert element.get("fill"), element.tag
    assert {t.get("fill") for t in svg.iter("text")} == {"#1a1a1a"}


# ------------------------------------------------------------------------ escaping


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_controlled_values_are_escaped(survey: Questionnaire, picks: dict, payload: str) -> None:
    tools = [dict(item) for item in picks["tools"]]
    tools[0].update(name=f"Outil {payload}", reason=f"Parce que {payload}")
    examples = [dict(item) for item in picks["examples"]]
    examples[0].update(name=f"Exemple {payload}", source=payload)
    answers = {**ANSWERS, "theme": payload}  # a forged answer stored as is
    state = completed_state(survey, picks, conversation_id=f"id{payload}", reasons=[f"raison {payload}"],
                            tools=tools, examples=examples, answers=answers)
    page = render_report(state, survey)
    assert payload not in page
    assert escape(payload) in page
    for text in (f"Outil {payload}", f"Parce que {payload}", f"Exemple {payload}", f"Raison {payload}",
                 f"id{payload}"):
        assert escape(text) in page, text
    # What a browser would see: no injected element, no injected attribute.
    tags = tags_of(page)
    assert not [tag for tag, _ in tags if tag == "img"]
    assert [attrs.get("src") for tag, attrs in tags if tag == "script"] == ["/static/report.js"]
    assert not [attrs for _, attrs in tags if "onerror" in attrs]
    # The conversation id is percent-encoded in the chart's URL.
    assert any(href.startswith(("/diagnostics/id%3C", "/diagnostics/id%22")) for href in links(page))
    assert_csp_safe(page)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_dimension_labels_are_escaped_in_the_chart(survey: Questionnaire, payload: str) -> None:
    # Labels come from the data, which a trainer edits: escaped too, and the SVG stays well-formed.
    renamed = Questionnaire.from_dict(_with_dimension_label(payload))
    chart = render_dimension_chart({"experience": 40}, renamed)
    assert payload not in chart
    svg = ET.fromstring(chart)
    assert payload in ["".join(text.itertext()) for text in svg.iter("text")]


def _with_dimension_label(label: str) -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["dimensions"][0]["label"] = label
    return data


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(document.cookie)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "www.open-sciences-participatives.org",
        "http://",
        "https://exa mple.org",
        None,
        42,
    ],
)
def test_only_http_urls_are_linked(survey: Questionnaire, picks: dict, url: object) -> None:
    tools = [dict(item) for item in picks["tools"]]
    tools[1]["url"] = url
    page = render_report(completed_state(survey, picks, tools=tools), survey)
    assert safe_url(url) is None
    assert f">{escape(tools[1]['name'])}</a>" not in page
    assert escape(tools[1]["name"]) in page
    for href in links(page):
        assert href.startswith(("/", "http://", "https://")), href
        assert not href.startswith("//")
    assert "javascript:" not in page.lower().replace("\n", "")


def test_http_and_https_urls_are_linked() -> None:
    assert safe_url("http://www.lerameau.fr/guide.pdf") == "http://www.lerameau.fr/guide.pdf"
    assert safe_url("  https://observatoire-des-partenariats.fr/les-territoires ") == (
        "https://observatoire-des-partenariats.fr/les-territoires"
    )
    assert safe_url("HTTPS://EXAMPLE.ORG") == "HTTPS://EXAMPLE.ORG"


# --------------------------------------------------------------- other pages


@pytest.mark.parametrize("payload", PAYLOADS)
def test_not_found_page(payload: str) -> None:
    page = render_not_found(f"conv{payload}")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert "Aucun diagnostic pour cette conversation" in page
    assert payload not in page
    assert escape(f"conv{payload}") in page
    assert "/" in links(page)
    assert not [tag for tag, _ in tags_of(page) if tag == "img"]
    assert_csp_safe(page)


def test_not_found_page_shortens_a_very_long_id() -> None:
    page = render_not_found("x" * 5000)
    assert "x" * 81 not in page
    assert "x" * 80 + "…" in page


def test_in_progress_page(survey: Questionnaire, picks: dict) -> None:
    state = in_progress_state(survey, 5)
    page = render_report(state, survey)
    assert "5 questions sur 13" in page
    assert "pas encore terminé" in page
    assert "assistant" in page
    assert "/" in links(page)
    for question_id in survey.question_ids[:5]:
        question = survey.question(question_id)
        answer = ANSWERS[question_id]
        label = " ; ".join(question.option(a).label for a in ([answer] if isinstance(answer, str) else answer))
        assert f"<dt>{escape(question.text)}</dt>\n<dd>{escape(label)}</dd>" in page
    for question_id in survey.question_ids[5:]:
        assert escape(survey.question(question_id).text) not in page  # only the answers so far
    assert "<svg" not in page and "Imprimer / PDF" not in page  # no result to show or print
    assert "Vos données" in page
    assert '<time datetime="2026-11-22">22 novembre 2026</time>' in page
    assert_csp_safe(page)


@pytest.mark.parametrize(("answered", "phrase"), [(0, "0 question sur 13"), (1, "1 question sur 13"),
                                                    (12, "12 questions sur 13")])
def test_in_progress_counts(survey: Questionnaire, answered: int, phrase: str) -> None:
    page = render_report(in_progress_state(survey, answered), survey)
    assert f"Vous avez répondu à {phrase}." in page


def test_abandoned_page_invites_to_start_again(survey: Questionnaire) -> None:
    page = render_report(in_progress_state(survey, 3, status="abandoned"), survey)
    assert "interrompu" in page
    assert "3 questions sur 13" in page
    assert "« Faire le diagnostic »" in page
    assert_csp_safe(page)


def test_in_progress_page_escapes_its_answers(survey: Questionnaire) -> None:
    state = in_progress_state(survey, 2)
    state["answers"]["size"] = SCRIPT_PAYLOAD
    state["conversation_id"] = ATTRIBUTE_PAYLOAD
    page = render_report(state, survey)
    assert SCRIPT_PAYLOAD not in page and ATTRIBUTE_PAYLOAD not in page
    assert escape(SCRIPT_PAYLOAD) in page and escape(ATTRIBUTE_PAYLOAD) in page
    assert [attrs.get("src") for tag, attrs in tags_of(page) if tag == "script"] == ["/static/report.js"]


def test_a_completed_state_without_result_is_not_a_report(survey: Questionnaire) -> None:
    state = {**in_progress_state(survey, 13), "status": "completed"}
    page = render_report(state, survey)
    assert "13 questions sur 13" in page and "<svg" not in page


# ------------------------------------------------------------------ static assets


def test_print_stylesheet_and_script() -> None:
    css = (STATIC / "report.css").read_text(encoding="utf-8")
    assert "@media print" in css
    print_rules = css[css.index("@media print"):]
    for needle in ('a[href^="http"]::after', "print-color-adjust: exact", ".print-button", ".report-nav",
                   "break-inside: avoid"):
        assert needle in print_rules, needle
    script = (STATIC / "report.js").read_text(encoding="utf-8")
    assert "window.print()" in script
    assert "addEventListener(\"click\"" in script
    assert "[data-action='print']" in script
