"""What the console's templates need: chart geometry (SVG) and labels, from the figures of bot.console.

Pure functions (no Sanic, no database). Two kinds of chart, drawn by templates/console_charts.html:
stacked columns (doors or levels per day, week or month) and horizontal bars (dimension averages,
the funnel). Each chart has a text summary for screen readers, and its figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.console.figures import Overview
from bot.console.period import DAY, MONTH, MONTHS
from bot.diagnostic.questionnaire import Questionnaire

#: Series colours, each at least 4.5:1 against white (WCAG AA asks 3:1 for graphics).
PALETTE = ("#1f4e8c", "#9a3412", "#2e6b30", "#6b2c91", "#5c4a00", "#005f73")
TEXT_FILL = "#1a1a1a"
GRID_FILL = "#d5dae1"
TRACK_FILL = "#e8edf3"
COLUMNS_WIDTH, COLUMNS_HEIGHT, AXIS_WIDTH, PLOT_TOP, PLOT_HEIGHT = 640, 240, 40, 10, 190
BAR_LABEL_WIDTH, BAR_MAX, BAR_ROW, BAR_HEIGHT = 270, 330, 30, 18


def _n(value: float) -> str:
    return f"{value:g}"


def _short(first_day: date, unit: str) -> str:
    if unit == MONTH:
        return f"{MONTHS[first_day.month - 1][:4].rstrip('.')}. {first_day.year % 100:02d}"
    return f"{first_day.day}/{first_day.month}"


def _nice_max(value: int) -> int:
    """The top of the axis: the smallest of 1, 2, 5 × 10^k at or above ``value`` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return max(1, step * factor)
        step *= 10


def stacked_columns(title: str, buckets: Sequence[tuple[date, Mapping[str, int]]], unit: str,
                    series: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """One column per bucket, one coloured segment per series (id, label) in order, bottom up."""
    top = _nice_max(max((sum(counts.values()) for _, counts in buckets), default=0))
    slot = (COLUMNS_WIDTH - AXIS_WIDTH - 10) / max(1, len(buckets))
    width = max(2.0, min(40.0, slot * 0.7))
    every = max(1, round(len(buckets) / 12 + 0.49))  # at most about 12 labels under the axis
    columns = []
    for index, (first_day, counts) in enumerate(buckets):
        x = AXIS_WIDTH + 5 + index * slot + (slot - width) / 2
        y = PLOT_TOP + PLOT_HEIGHT
        segments = []
        for position, (series_id, label) in enumerate(series):
            count = int(counts.get(series_id, 0))
            if not count:
                continue
            height = PLOT_HEIGHT * count / top
            y -= height
            segments.append({"x": _n(round(x, 1)), "y": _n(round(y, 1)), "width": _n(round(width, 1)),
                             "height": _n(round(height, 1)), "fill": PALETTE[position % len(PALETTE)],
                             "title": f"{_short(first_day, unit)} — {label} : {count}"})
        columns.append({"segments": segments, "label": _short(first_day, unit) if index % every == 0 else "",
                        "label_x": _n(round(x + width / 2, 1))})
    ticks = [{"value": value, "y": _n(round(PLOT_TOP + PLOT_HEIGHT * (1 - value / top), 1))}
             for value in sorted({0, top // 2, top}) if value == 0 or top // 2 > 0]
    totals = {series_id: sum(int(counts.get(series_id, 0)) for _, counts in buckets) for series_id, _ in series}
    summary = f"{title} : " + " ; ".join(f"{label} {totals[series_id]}" for series_id, label in series) + "."
    return {"width": COLUMNS_WIDTH, "height": COLUMNS_HEIGHT, "axis_x": AXIS_WIDTH, "plot_top": PLOT_TOP,
            "plot_bottom": PLOT_TOP + PLOT_HEIGHT, "label_y": PLOT_TOP + PLOT_HEIGHT + 18, "columns": columns,
            "ticks": ticks, "title": title, "summary": summary, "text_fill": TEXT_FILL, "grid_fill": GRID_FILL,
            "legend": [{"label": label, "fill": PALETTE[position % len(PALETTE)]}
                       for position, (_, label) in enumerate(series)]}


def horizontal_bars(title: str, rows: Sequence[tuple[str, float | None, str]], maximum: float) -> dict[str, Any]:
    """One bar per (label, value, value as written) row; ``maximum`` is a full bar."""
    bars = []
    for index, (label, value, written) in enumerate(rows):
        top = 8 + index * BAR_ROW
        shown = label if len(label) <= 30 else label[:29].rstrip() + "…"  # about 240 units at 13 px
        bars.append({"label": shown, "written": written, "y": _n(top + (BAR_ROW - BAR_HEIGHT) / 2),
                     "text_y": _n(top + BAR_ROW / 2 + 5),
                     "width": _n(round(BAR_MAX * (value or 0) / maximum, 1) if maximum else 0)})
    summary = f"{title} : " + " ; ".join(f"{label} {written}" for label, _, written in rows) + "."
    return {"width": BAR_LABEL_WIDTH + BAR_MAX + 70, "height": 16 + BAR_ROW * len(rows), "label_x": BAR_LABEL_WIDTH - 8,
            "bar_x": BAR_LABEL_WIDTH, "bar_max": BAR_MAX, "bar_height": BAR_HEIGHT,
            "value_x": BAR_LABEL_WIDTH + BAR_MAX + 8, "bars": bars, "title": title, "summary": summary,
            "fill": PALETTE[0], "track_fill": TRACK_FILL, "text_fill": TEXT_FILL}


def percent_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}\u00a0%".replace(".", ",")


def overview_view(data: Overview, survey: Questionnaire) -> dict[str, Any]:
    doors = [(door.id, door.label) for door in survey.doors]
    levels = [(level.id, level.label) for level in survey.levels]
    unit = data.period.unit
    unit_text = {DAY: "par jour", MONTH: "par mois"}.get(unit, "par semaine")
    dimensions = [(dimension.label, data.dimensions.get(dimension.id), percent_text(data.dimensions.get(dimension.id)))
                  for dimension in survey.dimensions]
    return {
        "unit_text": unit_text,
        "doors": [{"label": label, "count": data.doors.get(door_id, 0)} for door_id, label in doors],
        "levels": [{"label": label, "count": data.levels.get(level_id, 0)} for level_id, label in levels],
        "door_chart": stacked_columns(f"Portes d'entrée recommandées, {unit_text}",
                                      [(bucket.first_day, bucket.doors) for bucket in data.buckets], unit, doors),
        "level_chart": stacked_columns(f"Niveaux de maturité, {unit_text}",
                                       [(bucket.first_day, bucket.levels) for bucket in data.buckets], unit, levels),
        "buckets": [{"label": bucket.label, "doors": [bucket.doors.get(door_id, 0) for door_id, _ in doors],
                     "levels": [bucket.levels.get(level_id, 0) for level_id, _ in levels]} for bucket in data.buckets],
        "door_labels": [label for _, label in doors],
        "level_labels": [label for _, label in levels],
        "dimension_chart": horizontal_bars("Moyenne de chaque dimension, de 0 à 100 %", dimensions, 100),
        "dimensions": [{"label": label, "written": written} for label, _, written in dimensions],
        "completion": percent_text(data.completion_rate),
    }


def label_choices(survey: Questionnaire, intents: Sequence[str]) -> list[dict[str, Any]]:
    """The option groups of the labelling menu: one per question, then the intents."""
    groups: list[dict[str, Any]] = [
        {"label": f"Réponse à la question {position} : {question.text}",
         "question_id": question.id,
         "options": [{"value": f"answer:{question.id}:{option.id}", "label": option.label}
                     for option in question.choices]}
        for position, question in enumerate(survey.questions, start=1)
    ]
    groups.append({"label": "Une autre intention", "question_id": None,
                   "options": [{"value": f"intent:{intent}", "label": intent} for intent in intents]})
    return groups


def label_names(choices: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """How a label is written on the page, by its form value."""
    names = {"ignored": "ignoré"}
    for group in choices:
        for option in group["options"]:
            names[option["value"]] = f"{group['label']} → {option['label']}"
    return names
