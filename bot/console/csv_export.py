"""The console's aggregates as CSV files for a spreadsheet (French: ';' separator, UTF-8 with BOM).

Only aggregates: figures, counts per door, level, question and group; never a visitor. A text cell
that a spreadsheet would read as a formula (=, +, -, @) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from bot.console.figures import Overview
from bot.console.funnel import FunnelStep
from bot.console.listening import FeedbackSummary, Gap
from bot.console.period import local_date
from bot.diagnostic.questionnaire import Questionnaire

DELIMITER = ";"
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return BOM + buffer.getvalue()


def overview_csv(data: Overview, survey: Questionnaire) -> str:
    """Rows « indicateur ; période ; valeur », then one row per bucket with its doors and levels."""
    period = f"{data.period.first.isoformat()}/{data.period.last.isoformat()}"
    rows: list[list[Any]] = [["indicateur", "periode", "valeur"],
                             ["conversations", period, data.conversations],
                             ["diagnostics_commences", period, data.started],
                             ["diagnostics_termines", period, data.finished],
                             ["taux_achevement_pourcent", period, data.completion_rate],
                             ["ateliers", period, data.workshops],
                             ["participants_ateliers", period, data.workshop_participants]]
    rows += [[f"porte_{door.id}", period, data.doors.get(door.id, 0)] for door in survey.doors]
    rows += [[f"niveau_{level.id}", period, data.levels.get(level.id, 0)] for level in survey.levels]
    rows += [[f"dimension_{dimension.id}_moyenne", period, data.dimensions.get(dimension.id)]
             for dimension in survey.dimensions]
    rows.append([])
    rows.append(["debut_tranche", *(f"porte_{door.id}" for door in survey.doors),
                 *(f"niveau_{level.id}" for level in survey.levels)])
    rows += [[bucket.first_day.isoformat(), *(bucket.doors.get(door.id, 0) for door in survey.doors),
              *(bucket.levels.get(level.id, 0) for level in survey.levels)] for bucket in data.buckets]
    return _csv(rows)


def funnel_csv(steps: Sequence[FunnelStep]) -> str:
    header = ["position", "question", "arrives", "partis_ici", "reponses_tapees", "reponses_boutons",
              "part_tapee_pourcent", "non_compris", "corrections"]
    return _csv([header, *([step.position, step.question_id, step.reached, step.left, step.typed, step.clicked,
                            step.typed_share, step.not_understood, step.corrected] for step in steps)])


def gaps_csv(gaps: Sequence[Gap]) -> str:
    return _csv([["nombre", "exemple", "derniere_fois"],
                 *([gap.count, gap.text, local_date(gap.last_at).isoformat()] for gap in gaps)])


def feedback_csv(summary: FeedbackSummary, survey: Questionnaire) -> str:
    rows: list[list[Any]] = [["porte", "reponses", "utile", "taux_utile_pourcent"]]
    for door_id, (count, useful) in sorted(summary.by_door.items()):
        rows.append([door_id or "(sans porte)", count, useful, (200 * useful + count) // (2 * count) if count else ""])
    rows.append(["total", summary.answers, summary.useful, summary.useful_rate])
    return _csv(rows)
