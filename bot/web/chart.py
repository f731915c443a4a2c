"""The geometry of the dimension chart: where each bar goes, rendered by templates/chart.svg.

Pure functions (no Sanic, no database). The chart is a horizontal bar chart of the maturity
dimensions, 0–100 %, in questionnaire order; the template escapes every label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.diagnostic.questionnaire import Questionnaire
from bot.web import pages

# Chart geometry (SVG user units).
CHART_WIDTH = 600
CHART_LABEL_WIDTH = 130
CHART_BAR_X = 140
CHART_BAR_MAX = 380
CHART_ROW_HEIGHT = 40
CHART_BAR_HEIGHT = 22
CHART_PADDING = 12
CHART_VALUE_X = CHART_BAR_X + CHART_BAR_MAX + 10
# Bar colour: 8.3:1 against white and 7:1 against its track (WCAG AA asks 3:1 for graphics).
CHART_BAR_FILL = "#1f4e8c"
CHART_TRACK_FILL = "#e8edf3"
CHART_TEXT_FILL = "#1a1a1a"
CHART_BACKGROUND = "#ffffff"


def percent_value(value: object) -> int:
    """A stored percentage as an int in 0–100 (stored JSON is not trusted to be one)."""
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
    return max(0, min(100, number))


def _number(value: float) -> str:
    """A coordinate as SVG writes it: « 21 », « 254.6 »."""
    return f"{value:g}"


def chart_view(dimensions: Mapping[str, Any], survey: Questionnaire, *, standalone: bool = False) -> dict[str, Any]:
    """What templates/chart.svg needs: the size, the colours and one row per dimension."""
    rows = []
    for index, dimension in enumerate(survey.dimensions):
        value = percent_value(dimensions.get(dimension.id, 0))
        top = CHART_PADDING + index * CHART_ROW_HEIGHT
        rows.append({
            "id": dimension.id,
            "label": dimension.label,
            "percent": value,
            "bar_y": _number(top + (CHART_ROW_HEIGHT - CHART_BAR_HEIGHT) / 2),
            "text_y": _number(top + CHART_ROW_HEIGHT / 2 + 5),  # baseline of 15-unit text, visually centred
            "bar_width": _number(CHART_BAR_MAX * value / 100),
        })
    summary = " ; ".join(f"{row['label']} : {pages.percent(row['percent'])}" for row in rows) + "."
    return {
        "standalone": standalone,
        "width": CHART_WIDTH,
        "height": 2 * CHART_PADDING + CHART_ROW_HEIGHT * len(rows),
        "summary": summary,
        "rows": rows,
        "label_x": CHART_LABEL_WIDTH,
        "bar_x": CHART_BAR_X,
        "bar_max": CHART_BAR_MAX,
        "bar_height": CHART_BAR_HEIGHT,
        "value_x": CHART_VALUE_X,
        "bar_fill": CHART_BAR_FILL,
        "track_fill": CHART_TRACK_FILL,
        "text_fill": CHART_TEXT_FILL,
        "background": CHART_BACKGROUND,
    }


def render_dimension_chart(dimensions: Mapping[str, Any], survey: Questionnaire, *, standalone: bool = False) -> str:
    """A horizontal bar chart (SVG) of the maturity dimensions, 0–100 %, in questionnaire order.

    Each dimension is a ``rect`` of class ``bar`` whose width is proportional to its
    percentage, with its label on the left and the percentage written after it.
    ``standalone=True`` gives a complete SVG document (XML declaration, namespace,
    white background) to serve as ``image/svg+xml``.
    """
    return pages.render("chart.svg", chart=chart_view(dimensions, survey, standalone=standalone))
