"""The printable report page of a diagnostic, and its chart: the data they show, rendered by the templates.

Pure functions (no Sanic, no database): the web app passes the state returned by
:func:`bot.store.diagnostics.get_state` and the questionnaire, and serves what comes
back. This module turns the state into plain values (labels, percentages, dates,
safe URLs); the templates in bot/web/templates (``report.html``,
``report_unfinished.html``, ``report_not_found.html``, ``chart.svg``) lay them out
and escape every one: the conversation id comes from the URL, and answers, reasons
and names come from stored data that a forged payload may have reached. Only
``http(s)`` URLs become links.

The pages run under a strict Content-Security-Policy (``script-src 'self';
style-src 'self'``): no inline script, no ``style`` attribute, no ``on*``
handler; the print button is wired by ``/static/report.js`` and the layout is in
``/static/report.css``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from bot.diagnostic.questionnaire import NSP, NSP_LABEL, Questionnaire
from bot.diagnostic.text import french_date, local_datetime
from bot.knowledge.lookup import source_titles
from bot.web import pages
from bot.web.chart import CHART_BAR_MAX, chart_view, percent_value, render_dimension_chart

__all__ = [
    "CHART_BAR_MAX", "format_source", "french_date", "render_dimension_chart", "render_not_found", "render_report",
    "safe_url",
]

COMPLETED = "completed"
ABANDONED = "abandoned"

MAX_SHOWN_ID_LENGTH = 80
_SOURCE = re.compile(r"^(?P<file>\S+) L(?P<start>\d+)(?:-(?P<end>\d+))?$")


# ---------------------------------------------------------------------- helpers


def _date(value: object) -> dict[str, str] | None:
    """The date of a ``<time>`` element: ISO for machines, French for readers; None without a date."""
    moment = local_datetime(value)
    text = french_date(value)
    if moment is None or text is None:
        return None
    return {"iso": moment.date().isoformat(), "text": text}


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (``javascript:``, relative, garbage)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if any(char.isspace() or ord(char) < 32 for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def format_source(source: object) -> str:
    """« actes du colloque … (2022), l. 2417–2423 » from ``"003_….txt L2417-2423"``."""
    text = str(source or "").strip()
    match = _SOURCE.match(text)
    if match is None:
        return text
    title = source_titles().get(match["file"], match["file"])
    start, end = match["start"], match["end"]
    lines = f"l. {start}" if end is None or end == start else f"l. {start}–{end}"
    return f"{title}, {lines}"


def _door(survey: Questionnaire, door_id: object) -> dict[str, str]:
    try:
        door = survey.door(str(door_id))
    except KeyError:  # the questionnaire changed since the diagnostic was stored
        return {"label": str(door_id), "meaning": ""}
    return {"label": door.label, "meaning": door.meaning}


def _level(survey: Questionnaire, level_id: object) -> dict[str, str]:
    try:
        level = survey.level(str(level_id))
    except KeyError:
        return {"label": str(level_id), "meaning": ""}
    return {"label": level.label, "meaning": level.meaning}


def _dimension_label(survey: Questionnaire, dimension_id: object) -> str:
    try:
        return survey.dimension(str(dimension_id)).label
    except KeyError:
        return str(dimension_id)


def _answer_label(survey: Questionnaire, question_id: str, value: object) -> str:
    """The label of the chosen option(s); unknown ids are shown as stored (escaped by the template)."""
    question = survey.question(question_id)
    if value is None or value == NSP:
        return NSP_LABEL
    values = value if isinstance(value, (list, tuple)) else [value]
    labels = []
    for item in values:
        try:
            labels.append(question.option(str(item)).label)
        except KeyError:
            labels.append(str(item))
    return " ; ".join(labels)


def _capitalise(text: str) -> str:
    # Reasons are written to fit in a sentence (« vous êtes… »); as list items they start one.
    return text[:1].upper() + text[1:]


def _shown_id(conversation_id: str) -> str:
    if len(conversation_id) > MAX_SHOWN_ID_LENGTH:
        return conversation_id[:MAX_SHOWN_ID_LENGTH] + "…"
    return conversation_id


def _root(base_path: str) -> str:
    return base_path.rstrip("/")


# ------------------------------------------------------------------ view data


def _answer_sections(state: Mapping[str, Any], survey: Questionnaire, *, complete: bool) -> list[dict[str, Any]]:
    """Each section with the questions answered (every question, « Sans réponse » if none, when ``complete``)."""
    answers = state.get("answers") or {}
    if not isinstance(answers, Mapping):
        answers = {}
    sections = []
    for section in survey.sections:
        items = []
        for question in survey.questions:
            if question.section != section.id:
                continue
            if question.id in answers:
                label = _answer_label(survey, question.id, answers[question.id])
            elif complete:
                label = "Sans réponse"
            else:
                continue
            items.append({"question": question.text, "label": label})
        if items:
            sections.append({"label": section.label, "answers": items})
    return sections


def _mappings(items: object) -> list[Mapping[str, Any]]:
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, Sequence) else []


def _picks(items: object) -> list[dict[str, str | None]]:
    """Tools, examples or support structures as stored: a name, a description, a link only to an http(s) URL,
    a reason and a readable source."""
    return [
        {
            "name": str(item.get("name") or item.get("id") or ""),
            "description": str(item["description"]) if item.get("description") else None,
            "url": safe_url(item.get("url")),
            "reason": str(item["reason"]) if item.get("reason") else None,
            "source": format_source(item["source"]) if item.get("source") else None,
        }
        for item in _mappings(items)
    ]


def _steps(items: object) -> list[dict[str, Any]]:
    """The action plan's steps as stored, each with the tool that serves it."""
    return [
        {
            "title": str(item.get("title") or ""),
            "text": str(item["text"]) if item.get("text") else None,
            "source": format_source(item["source"]) if item.get("source") else None,
            "tool": (_picks([item["tool"]]) or [None])[0],
        }
        for item in _mappings(items)
    ]


def _progress(previous: object, state: Mapping[str, Any], survey: Questionnaire) -> dict[str, Any] | None:
    """The previous result against this one: the level, the maturity and each dimension, then and now."""
    if not isinstance(previous, Mapping) or not isinstance(previous.get("level"), Mapping):
        return None
    dimensions = previous.get("dimensions") if isinstance(previous.get("dimensions"), Mapping) else {}
    rows = [{"label": "Niveau", "before": _level(survey, previous["level"].get("before"))["label"],
             "after": _level(survey, previous["level"].get("after"))["label"]}]
    maturity = previous.get("maturity") if isinstance(previous.get("maturity"), Mapping) else {}
    rows.append({"label": "Maturité", "before": _percent_text(maturity.get("before")),
                 "after": _percent_text(maturity.get("after"))})
    for dimension in survey.dimensions:
        change = dimensions.get(dimension.id) if isinstance(dimensions.get(dimension.id), Mapping) else {}
        rows.append({"label": dimension.label, "before": _percent_text(change.get("before")),
                     "after": _percent_text(change.get("after"))})
    return {"date": _date(previous.get("completed_at")), "rows": rows}


def _percent_text(value: object) -> str:
    return f"{percent_value(value)}\u00a0%" if isinstance(value, int) and not isinstance(value, bool) else "–"


def _unfinished_view(state: Mapping[str, Any], survey: Questionnaire) -> dict[str, Any]:
    answers = state.get("answers")
    progress = state.get("progress") if isinstance(state.get("progress"), Mapping) else {}
    answered = progress.get("answered", len(answers) if isinstance(answers, Mapping) else 0)
    total = progress.get("total") or survey.total
    try:
        count, total = int(answered), int(total)
    except (TypeError, ValueError):
        count, total = 0, survey.total
    return {
        "abandoned": state.get("status") == ABANDONED,
        "answered": count,
        "total": total,
        "date": _date(state.get("updated_at")),
        "sections": _answer_sections(state, survey, complete=False),
        "reference": _shown_id(str(state.get("conversation_id") or "")),
    }


def _report_view(state: Mapping[str, Any], survey: Questionnaire, base_path: str) -> dict[str, Any]:
    conversation_id = str(state.get("conversation_id") or "")
    raw_dimensions = state.get("dimensions")
    dimensions: Mapping[str, Any] = raw_dimensions if isinstance(raw_dimensions, Mapping) else {}
    runner_up = _door(survey, state["runner_up"]) if state.get("runner_up") else None
    weakest = None
    if state.get("weakest_dimension"):
        weakest_id = str(state["weakest_dimension"])
        weakest = {"label": _dimension_label(survey, weakest_id),
                   "percent": percent_value(dimensions.get(weakest_id, 0))}
    points, points_max = state.get("maturity_points"), state.get("maturity_max")
    return {
        "date": _date(state.get("completed_at")),
        "door": _door(survey, state["door"]),
        "reasons": [_capitalise(str(reason)) for reason in state.get("reasons") or [] if reason],
        "runner_up": runner_up,
        "level": _level(survey, state.get("level")),
        "maturity": percent_value(state.get("maturity")),
        "points": ({"earned": points, "max": points_max}
                   if isinstance(points, int) and isinstance(points_max, int) else None),
        "chart": chart_view(dimensions, survey),
        "chart_url": f"{_root(base_path)}/diagnostics/{quote(conversation_id, safe='')}/chart.svg",
        "weakest": weakest,
        "unanswered": len(state.get("unanswered") or []),
        "nsp_label": NSP_LABEL,
        "tools": _picks(state.get("tools")),
        "examples": _picks(state.get("examples")),
        "steps": _steps(state.get("steps")),
        "support": _picks(state.get("support")),
        "progress": _progress(state.get("previous"), state, survey),
        "restart_url": f"{_root(base_path)}/?refaire={quote(conversation_id, safe='')}",
        "sections": _answer_sections(state, survey, complete=True),
        "reference": _shown_id(conversation_id),
    }


# ----------------------------------------------------------------------- pages


def render_report(state: Mapping[str, Any], survey: Questionnaire, *, base_path: str = "") -> str:
    """The full report page of a diagnostic state (as returned by ``get_state``).

    A completed diagnostic gets the whole report; one still in progress (or
    abandoned) gets a short page with the answers so far and an invitation to
    finish it in the assistant.
    """
    if state.get("status") != COMPLETED or not state.get("door"):
        return pages.render("report_unfinished.html", root=_root(base_path), **_unfinished_view(state, survey))
    return pages.render("report.html", root=_root(base_path), **_report_view(state, survey, base_path))


def render_not_found(conversation_id: str, *, base_path: str = "") -> str:
    """The 404 page for a conversation without a diagnostic, with a link back to the home page."""
    return pages.render("report_not_found.html", root=_root(base_path), reference=_shown_id(conversation_id))
