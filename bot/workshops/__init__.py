"""Workshops: a trainer runs the diagnostic with a group and follows it live.

- :mod:`.codes`: the participants' code and the trainer's secret token;
- :mod:`.repository`: opening, finding, closing and joining workshops, wrong codes;
- :mod:`.dashboard`: the live figures of a workshop (anonymous);
- :mod:`.export`: the anonymous results as CSV;
- :mod:`.cli`: ``python -m bot.workshops create|close|export|keep``.

Plain Python and SQLAlchemy. May import :mod:`bot.store`, :mod:`bot.diagnostic`
and :mod:`bot.settings`; never Rasa, Sanic or the web app. The names below are the
package's interface for the actions, the web app and the tests.
"""

from bot.workshops.cli import main
from bot.workshops.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    TRAINER_PAGE,
    candidate_codes,
    dashboard_path,
    extract_code,
    format_code,
    generate_code,
    hash_token,
    normalise_code,
)
from bot.workshops.dashboard import dashboard
from bot.workshops.export import (
    BOM,
    CSV_DELIMITER,
    LIST_SEPARATOR,
    csv_columns,
    export_csv,
    export_csv_bytes,
    export_filename,
)
from bot.workshops.repository import (
    LOCK_MINUTES,
    MAX_HOURS,
    MAX_WRONG_CODES,
    MIN_HOURS,
    TITLE_MAX,
    CreatedWorkshop,
    WorkshopInfo,
    WorkshopNotFound,
    clean_title,
    clear_wrong_codes,
    close_workshop,
    code_attempts_locked,
    code_lock_ends_at,
    create_workshop,
    find_by_token,
    find_open_by_code,
    join,
    keep_results,
    record_wrong_code,
)

__all__ = [
    "BOM",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CSV_DELIMITER",
    "LIST_SEPARATOR",
    "LOCK_MINUTES",
    "MAX_HOURS",
    "MAX_WRONG_CODES",
    "MIN_HOURS",
    "TITLE_MAX",
    "TRAINER_PAGE",
    "CreatedWorkshop",
    "WorkshopInfo",
    "WorkshopNotFound",
    "candidate_codes",
    "clean_title",
    "clear_wrong_codes",
    "close_workshop",
    "code_attempts_locked",
    "code_lock_ends_at",
    "create_workshop",
    "csv_columns",
    "dashboard",
    "dashboard_path",
    "export_csv",
    "export_csv_bytes",
    "export_filename",
    "extract_code",
    "find_by_token",
    "find_open_by_code",
    "format_code",
    "generate_code",
    "hash_token",
    "join",
    "keep_results",
    "main",
    "normalise_code",
    "record_wrong_code",
]
