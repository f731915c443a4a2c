"""The anonymous results of a workshop as a CSV file (for spreadsheets, in French)."""
from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.engine import Engine

from bot.diagnostic.questionnaire import Questionnaire
from bot.store.db import session_scope
from bot.workshops.dashboard import finished_participants, get_workshop
from bot.workshops.repository import (
    WorkshopInfo,
    iso_utc,
)

#: Separator of the CSV export (French spreadsheets use ';'), and of a list answer inside a cell.
CSV_DELIMITER = ";"
LIST_SEPARATOR = ";"
BOM = "\ufeff"


def csv_columns(survey: Questionnaire) -> list[str]:
    """Header of the CSV export (ids of doors, dimensions and questions are the public contract)."""
    return [
        "participant",
        "porte",
        "porte_libelle",
        "niveau",
        "niveau_libelle",
        "maturite",
        *(f"dimension_{dimension.id}" for dimension in survey.dimensions),
        *(f"score_{door.id}" for door in survey.doors),
        *survey.question_ids,
        "debut",
        "fin",
    ]


def _label(find: Any, item_id: str | None) -> str:
    if item_id is None:
        return ""
    try:
        return str(find(item_id).label)
    except KeyError:
        return ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return str(value)


def export_csv(workshop_id: int, survey: Questionnaire, engine: Engine | None = None) -> str:
    """The anonymous results of a workshop as CSV text: a header, then one row per finished participant.

    Columns: see :func:`csv_columns`. Door and level as id and French label; the
    maturity and the dimensions in percent; the door scores; each answer as its
    option id (``nsp`` for « je ne sais pas », empty if not answered; a list
    answer as ids separated by ``;``); start and end of the diagnostic in ISO 8601
    (UTC). Separator ``;``, quoting by the csv module, lines ending in CRLF. No
    conversation id, and no text typed by a participant (only ids, numbers,
    dates and labels from the questionnaire). ``WorkshopNotFound`` for an unknown id.
    """
    with session_scope(engine) as session:
        workshop = get_workshop(session, workshop_id)
        _, finished = finished_participants(session, workshop, with_answers=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(csv_columns(survey))
    for item in finished:
        dimensions = item.result.get("dimensions") or {}
        scores = item.result.get("scores") or {}
        writer.writerow(
            [
                item.number,
                _cell(item.door),
                _label(survey.door, item.door),
                _cell(item.level),
                _label(survey.level, item.level),
                _cell(item.maturity),
                *(_cell(dimensions.get(dimension.id)) for dimension in survey.dimensions),
                *(_cell(scores.get(door.id)) for door in survey.doors),
                *(_cell(item.answers.get(question_id)) for question_id in survey.question_ids),
                iso_utc(item.started_at) or "",
                iso_utc(item.completed_at) or "",
            ]
        )
    return buffer.getvalue()


def export_csv_bytes(workshop_id: int, survey: Questionnaire, engine: Engine | None = None) -> bytes:
    """:func:`export_csv` encoded in UTF-8 with a byte order mark, so that spreadsheets keep the accents."""
    return (BOM + export_csv(workshop_id, survey, engine=engine)).encode("utf-8")


def export_filename(workshop: WorkshopInfo) -> str:
    """A file name for the export, e.g. ``atelier-ABC-234.csv`` (ASCII only: safe in a header)."""
    return f"atelier-{workshop.display_code}.csv"
