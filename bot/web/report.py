"""The printable report page of a diagnostic, and its chart, as HTML and SVG text.

Pure functions (no Sanic, no database): the web app passes the state returned by
:func:`bot.store.diagnostics.get_state` and the questionnaire, and serves what comes
back. Every dynamic value is escaped: the conversation id comes from the URL,
and answers, reasons and names come from stored data that a forged payload may
have reached. Only ``http(s)`` URLs become links.

The pages run under a strict Content-Security-Policy (``script-src 'self';
style-src 'self'``): no inline script, no ``style`` attribute, no ``on*``
handler; the print button is wired by ``/static/report.js`` and the layout is in
``/static/report.css``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.diagnostic.questionnaire import NSP, NSP_LABEL, Questionnaire
from bot.knowledge.lookup import source_titles

SITE_TITLE = "Apprendre à faire alliance"
PAGE_TITLE = f"Votre diagnostic — {SITE_TITLE}"
COMPLETED = "completed"
ABANDONED = "abandoned"
PRINT_LABEL = "Imprimer / PDF"

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
# Diagnostics are stored in UTC; the readers are in France.
try:
    DISPLAY_TIMEZONE: Any = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # a system without time zone data
    DISPLAY_TIMEZONE = timezone.utc

# French typography: a no-break space before « % » (and the number never wraps away from it).
NBSP = "\u00a0"

# Chart geometry (SVG user units).
CHART_WIDTH = 600
CHART_LABEL_WIDTH = 130
CHART_BAR_X = 140
CHART_BAR_MAX = 380
CHART_ROW_HEIGHT = 40
CHART_BAR_HEIGHT = 22
CHART_PADDING = 12
# Bar colour: 8.3:1 against white and 7:1 against its track (WCAG AA asks 3:1 for graphics).
CHART_BAR_FILL = "#1f4e8c"
CHART_TRACK_FILL = "#e8edf3"
CHART_TEXT_FILL = "#1a1a1a"
CHART_BACKGROUND = "#ffffff"

MAX_SHOWN_ID_LENGTH = 80
_SOURCE = re.compile(r"^(?P<file>\S+) L(?P<start>\d+)(?:-(?P<end>\d+))?$")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _pct(value: int) -> str:
    return f"{value}{NBSP}%"


# ---------------------------------------------------------------------- helpers


def _percent_value(value: object) -> int:
    """A stored percentage as an int in 0–100 (stored JSON is not trusted to be one)."""
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
    return max(0, min(100, number))


def _parse_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(DISPLAY_TIMEZONE)


def french_date(value: object) -> str | None:
    """« 22 novembre 2026 » (« 1er » for the first of the month) from an ISO date-time, or None."""
    moment = _parse_datetime(value)
    if moment is None:
        return None
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS[moment.month - 1]} {moment.year}"


def _time_element(value: object) -> str | None:
    moment = _parse_datetime(value)
    text = french_date(value)
    if moment is None or text is None:
        return None
    return f'<time datetime="{_e(moment.date().isoformat())}">{_e(text)}</time>'


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


def _door_label(survey: Questionnaire, door_id: object) -> tuple[str, str]:
    try:
        door = survey.door(str(door_id))
    except KeyError:  # the questionnaire changed since the diagnostic was stored
        return str(door_id), ""
    return door.label, door.meaning


def _level_label(survey: Questionnaire, level_id: object) -> tuple[str, str]:
    try:
        level = survey.level(str(level_id))
    except KeyError:
        return str(level_id), ""
    return level.label, level.meaning


def _dimension_label(survey: Questionnaire, dimension_id: object) -> str:
    try:
        return survey.dimension(str(dimension_id)).label
    except KeyError:
        return str(dimension_id)


def _answer_label(survey: Questionnaire, question_id: str, value: object) -> str:
    """The label of the chosen option(s); unknown ids are shown as stored (escaped by the caller)."""
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


def _questions_phrase(count: int, total: int) -> str:
    # French: « 0 question », « 1 question », « 2 questions ».
    noun = "question" if count < 2 else "questions"
    return f"{count} {noun} sur {total}"


def _shown_id(conversation_id: str) -> str:
    if len(conversation_id) > MAX_SHOWN_ID_LENGTH:
        return conversation_id[:MAX_SHOWN_ID_LENGTH] + "…"
    return conversation_id


# ------------------------------------------------------------------------ chart


def render_dimension_chart(dimensions: Mapping[str, Any], survey: Questionnaire, *, standalone: bool = False) -> str:
    """A horizontal bar chart (SVG) of the maturity dimensions, 0–100 %, in questionnaire order.

    Each dimension is a ``rect`` of class ``bar`` whose width is proportional to its
    percentage, with its label on the left and the percentage written after it.
    ``standalone=True`` gives a complete SVG document (XML declaration, namespace,
    white background) to serve as ``image/svg+xml``.
    """
    rows = [(dimension.id, dimension.label, _percent_value(dimensions.get(dimension.id, 0)))
            for dimension in survey.dimensions]
    height = 2 * CHART_PADDING + CHART_ROW_HEIGHT * len(rows)
    summary = " ; ".join(f"{label} : {_pct(value)}" for _, label, value in rows) + "."
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts = []
    if standalone:
        parts.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    parts.append(
        f'<svg{namespace} class="dimension-chart" role="img" aria-labelledby="chart-title chart-desc" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'font-family="Arial, Helvetica, sans-serif" font-size="15">\n'
        f'<title id="chart-title">Maturité par dimension (0 à 100{NBSP}%)</title>\n'
        f'<desc id="chart-desc">{_e(summary)}</desc>\n'
    )
    if standalone:
        # Chat widgets may have a dark theme: the image carries its own background.
        parts.append(f'<rect class="background" x="0" y="0" width="{CHART_WIDTH}" height="{height}" '
                     f'fill="{CHART_BACKGROUND}"/>\n')
    for index, (dimension_id, label, value) in enumerate(rows):
        top = CHART_PADDING + index * CHART_ROW_HEIGHT
        bar_y = top + (CHART_ROW_HEIGHT - CHART_BAR_HEIGHT) / 2
        text_y = top + CHART_ROW_HEIGHT / 2 + 5  # baseline of 15-unit text, visually centred
        width = CHART_BAR_MAX * value / 100
        parts.append(
            f'<g class="dimension" data-dimension="{_e(dimension_id)}">\n'
            f'<text x="{CHART_LABEL_WIDTH}" y="{text_y:g}" text-anchor="end" fill="{CHART_TEXT_FILL}">'
            f'{_e(label)}</text>\n'
            f'<rect class="track" x="{CHART_BAR_X}" y="{bar_y:g}" width="{CHART_BAR_MAX}" '
            f'height="{CHART_BAR_HEIGHT}" fill="{CHART_TRACK_FILL}"/>\n'
            f'<rect class="bar" x="{CHART_BAR_X}" y="{bar_y:g}" width="{width:g}" '
            f'height="{CHART_BAR_HEIGHT}" fill="{CHART_BAR_FILL}"/>\n'
            f'<text class="value" x="{CHART_BAR_X + CHART_BAR_MAX + 10}" y="{text_y:g}" '
            f'fill="{CHART_TEXT_FILL}" font-weight="bold">{_e(_pct(value))}</text>\n'
            f'</g>\n'
        )
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------- pages


def _page(body: str, *, base_path: str = "", title: str = PAGE_TITLE) -> str:
    root = _e(base_path.rstrip("/"))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # A report is reached by its conversation's link only: keep it out of search engines.
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)}</title>\n"
        f'<link rel="icon" href="{root}/static/favicon.svg" type="image/svg+xml">\n'
        f'<link rel="stylesheet" href="{root}/static/report.css">\n'
        f'<script src="{root}/static/report.js" defer></script>\n'
        "</head>\n<body>\n"
        f"{body}"
        "</body>\n</html>\n"
    )


def _nav(base_path: str) -> str:
    root = _e(base_path.rstrip("/"))
    return (
        '<nav class="report-nav" aria-label="Navigation">'
        f'<a href="{root}/">Retour à l\'assistant</a></nav>\n'
    )


def _answers_section(state: Mapping[str, Any], survey: Questionnaire, *, complete: bool) -> str:
    answers = state.get("answers") or {}
    if not isinstance(answers, Mapping):
        answers = {}
    blocks = []
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
            items.append(f"<dt>{_e(question.text)}</dt>\n<dd>{_e(label)}</dd>\n")
        if items:
            blocks.append(f'<h3>{_e(section.label)}</h3>\n<dl class="answers">\n{"".join(items)}</dl>\n')
    heading = "Vos réponses" if complete else "Vos réponses jusqu'ici"
    content = "".join(blocks) or "<p>Aucune réponse enregistrée pour l'instant.</p>\n"
    return (
        '<section class="report-section" aria-labelledby="answers-heading">\n'
        f'<h2 id="answers-heading">{heading}</h2>\n{content}</section>\n'
    )


def _picks_section(items: object, *, section_id: str, heading: str, empty: str) -> str:
    entries = [item for item in items if isinstance(item, Mapping)] if isinstance(items, Sequence) else []
    if not entries:
        body = f"<p>{_e(empty)}</p>\n"
    else:
        rendered = []
        for item in entries:
            name = _e(item.get("name") or item.get("id") or "")
            url = safe_url(item.get("url"))
            title = f'<a href="{_e(url)}">{name}</a>' if url else name
            lines = [f'<li class="pick">\n<h3>{title}</h3>\n']
            if item.get("reason"):
                lines.append(f'<p class="pick-reason">{_e(item["reason"])}</p>\n')
            if item.get("source"):
                lines.append(f'<p class="pick-source">Source : {_e(format_source(item["source"]))}</p>\n')
            lines.append("</li>\n")
            rendered.append("".join(lines))
        body = f'<ul class="picks">\n{"".join(rendered)}</ul>\n'
    return (
        f'<section class="report-section" aria-labelledby="{section_id}-heading">\n'
        f'<h2 id="{section_id}-heading">{_e(heading)}</h2>\n{body}</section>\n'
    )


def _privacy_section() -> str:
    return (
        '<section class="report-section privacy" aria-labelledby="privacy-heading">\n'
        '<h2 id="privacy-heading">Vos données</h2>\n'
        "<p>Nous conservons vos réponses à ce questionnaire, le résultat calculé, les dates et la "
        "conversation avec l'assistant. Nous ne vous demandons ni nom ni adresse e-mail.</p>\n"
        "<p>Elles servent seulement à établir votre diagnostic et ce rapport.</p>\n"
        "</section>\n"
    )


def _footer(conversation_id: str) -> str:
    return (
        '<footer class="report-footer">\n'
        f"<p>Rapport de l'assistant « {SITE_TITLE} ». "
        f'Référence de la conversation : <span class="reference">{_e(_shown_id(conversation_id))}</span></p>\n'
        "</footer>\n"
    )


def render_report(state: Mapping[str, Any], survey: Questionnaire, *, base_path: str = "") -> str:
    """The full report page of a diagnostic state (as returned by ``get_state``).

    A completed diagnostic gets the whole report; one still in progress (or
    abandoned) gets a short page with the answers so far and an invitation to
    finish it in the assistant.
    """
    if state.get("status") != COMPLETED or not state.get("door"):
        return _render_unfinished(state, survey, base_path=base_path)

    conversation_id = str(state.get("conversation_id") or "")
    door_label, door_meaning = _door_label(survey, state["door"])
    level_label, level_meaning = _level_label(survey, state.get("level"))
    maturity = _percent_value(state.get("maturity"))
    raw_dimensions = state.get("dimensions")
    dimensions: Mapping[str, Any] = raw_dimensions if isinstance(raw_dimensions, Mapping) else {}

    date = _time_element(state.get("completed_at"))
    date_line = f'<p class="report-date">Diagnostic réalisé le {date}.</p>\n' if date else ""

    reasons = [reason for reason in state.get("reasons") or [] if reason]
    reasons_html = ""
    if reasons:
        items = "".join(f"<li>{_e(_capitalise(str(reason)))}</li>\n" for reason in reasons)
        reasons_html = f'<h3>Pourquoi cette porte ?</h3>\n<ul class="reasons">\n{items}</ul>\n'
    runner_up_html = ""
    if state.get("runner_up"):
        runner_label, runner_meaning = _door_label(survey, state["runner_up"])
        meaning = f" {_e(runner_meaning)}" if runner_meaning else ""
        runner_up_html = (
            f'<p class="runner-up">À explorer ensuite : <strong>{_e(runner_label)}</strong>.{meaning}</p>\n'
        )

    rows = "".join(
        f'<tr><th scope="row">{_e(dimension.label)}</th>'
        f"<td>{_e(_pct(_percent_value(dimensions.get(dimension.id, 0))))}</td></tr>\n"
        for dimension in survey.dimensions
    )
    weakest_html = ""
    if state.get("weakest_dimension"):
        weakest = str(state["weakest_dimension"])
        weakest_html = (
            '<p class="weakest">Point à travailler en priorité : '
            f"<strong>{_e(_dimension_label(survey, weakest))}</strong> "
            f"({_e(_pct(_percent_value(dimensions.get(weakest, 0))))}).</p>\n"
        )
    unanswered = state.get("unanswered") or []
    unanswered_html = ""
    if unanswered:
        count = len(unanswered)
        phrase = ("question est restée sans réponse ({nsp}) : elle compte" if count == 1
                  else "questions sont restées sans réponse ({nsp}) : elles comptent")
        unanswered_html = (
            f'<p class="unanswered">{count} {phrase.format(nsp=f"« {NSP_LABEL} »")} '
            "pour le score le plus bas.</p>\n"
        )

    points, points_max = state.get("maturity_points"), state.get("maturity_max")
    points_html = ""
    if isinstance(points, int) and isinstance(points_max, int):
        points_html = f' <span class="level-points">({points} points sur {points_max})</span>'
    chart_url = f"{base_path.rstrip('/')}/diagnostics/{quote(conversation_id, safe='')}/chart.svg"
    body = (
        '<header class="report-header">\n'
        f"{_nav(base_path)}"
        f"<h1>{_e(PAGE_TITLE)}</h1>\n"
        f"{date_line}"
        '<p class="report-actions">'
        f'<button type="button" class="print-button" data-action="print" hidden>{PRINT_LABEL}</button></p>\n'
        "</header>\n"
        "<main>\n"
        '<section class="report-section door" aria-labelledby="door-heading">\n'
        '<h2 id="door-heading">Votre porte d\'entrée recommandée</h2>\n'
        f'<p class="door-label">{_e(door_label)}</p>\n'
        + (f'<p class="door-meaning">{_e(door_meaning)}</p>\n' if door_meaning else "")
        + reasons_html
        + runner_up_html
        + "</section>\n"
        '<section class="report-section maturity" aria-labelledby="maturity-heading">\n'
        '<h2 id="maturity-heading">Votre niveau de maturité</h2>\n'
        f'<p class="level"><strong class="level-label">{_e(level_label)}</strong> — '
        f'<span class="level-percent">{_e(_pct(maturity))}</span>{points_html}</p>\n'
        + (f'<p class="level-meaning">{_e(level_meaning)}</p>\n' if level_meaning else "")
        + '<figure class="chart">\n'
        f"{render_dimension_chart(dimensions, survey)}\n"
        "<figcaption>Votre maturité par dimension, de 0 à 100 %. "
        f'<a class="chart-download" href="{_e(chart_url)}">Télécharger le graphique (SVG)</a></figcaption>\n'
        "</figure>\n"
        '<table class="dimensions">\n<caption>Les quatre dimensions en chiffres</caption>\n'
        '<thead><tr><th scope="col">Dimension</th><th scope="col">Score</th></tr></thead>\n'
        f"<tbody>\n{rows}</tbody>\n</table>\n"
        f"{weakest_html}{unanswered_html}"
        "</section>\n"
        + _picks_section(state.get("tools"), section_id="tools", heading="Outils recommandés",
                         empty="Aucun outil n'a été retenu pour ce diagnostic.")
        + _picks_section(state.get("examples"), section_id="examples", heading="Exemples qui peuvent vous inspirer",
                         empty="Aucun exemple n'a été retenu pour ce diagnostic.")
        + _answers_section(state, survey, complete=True)
        + _privacy_section()
        + "</main>\n"
        + _footer(conversation_id)
    )
    return _page(body, base_path=base_path)


def _render_unfinished(state: Mapping[str, Any], survey: Questionnaire, *, base_path: str) -> str:
    answers = state.get("answers")
    progress = state.get("progress") if isinstance(state.get("progress"), Mapping) else {}
    answered = progress.get("answered", len(answers) if isinstance(answers, Mapping) else 0)
    total = progress.get("total") or survey.total
    try:
        count, total = int(answered), int(total)
    except (TypeError, ValueError):
        count, total = 0, survey.total
    if state.get("status") == ABANDONED:
        lead = "Ce diagnostic a été interrompu avant la fin."
        invite = ("Pour obtenir votre rapport, recommencez le diagnostic dans l'assistant : "
                  "écrivez « Faire le diagnostic ».")
    else:
        lead = "Votre diagnostic n'est pas encore terminé."
        invite = ("Retournez dans la conversation avec l'assistant pour répondre aux questions restantes : "
                  "il reprend là où vous vous êtes arrêté. Votre rapport apparaîtra ici à la fin.")
    root = _e(base_path.rstrip("/"))
    date = _time_element(state.get("updated_at"))
    date_line = f'<p class="report-date">Dernière réponse le {date}.</p>\n' if date else ""
    body = (
        '<header class="report-header">\n'
        f"{_nav(base_path)}"
        f"<h1>{_e(PAGE_TITLE)}</h1>\n"
        f"{date_line}"
        "</header>\n<main>\n"
        '<section class="report-section unfinished" aria-labelledby="unfinished-heading">\n'
        f'<h2 id="unfinished-heading">{lead}</h2>\n'
        f'<p class="progress">Vous avez répondu à {_e(_questions_phrase(count, total))}.</p>\n'
        f"<p>{invite}</p>\n"
        f'<p><a class="button-link" href="{root}/">Ouvrir l\'assistant</a></p>\n'
        "</section>\n"
        + _answers_section(state, survey, complete=False)
        + _privacy_section()
        + "</main>\n"
        + _footer(str(state.get("conversation_id") or ""))
    )
    return _page(body, base_path=base_path)


def render_not_found(conversation_id: str, *, base_path: str = "") -> str:
    """The 404 page for a conversation without a diagnostic, with a link back to the home page."""
    root = _e(base_path.rstrip("/"))
    body = (
        '<header class="report-header">\n'
        f"<h1>{_e(PAGE_TITLE)}</h1>\n"
        "</header>\n<main>\n"
        '<section class="report-section not-found">\n'
        "<h2>Aucun diagnostic pour cette conversation</h2>\n"
        "<p>Nous n'avons trouvé aucun diagnostic pour la conversation "
        f"« {_e(_shown_id(conversation_id))} ». Le lien est peut-être incomplet, ou les données ont été "
        "supprimées.</p>\n"
        "<p>Vous pouvez faire le diagnostic avec l'assistant : il compte 13 questions.</p>\n"
        f'<p><a class="button-link" href="{root}/">Revenir à l\'accueil</a></p>\n'
        "</section>\n</main>\n"
    )
    return _page(body, base_path=base_path, title=f"Diagnostic introuvable — {SITE_TITLE}")
