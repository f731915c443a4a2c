"""Workshops: a trainer runs the diagnostic with a group and follows it live.

A trainer opens a workshop with a title and gets two things:

* a short **code** for the participants, easy to read aloud: six characters
  from :data:`CODE_ALPHABET` (no 0/O, 1/I/L), always at least one letter and
  one digit (so that an ordinary word of a sentence is never taken for a code),
  shown as ``ABC-234``;
* a secret **token** (``secrets.token_urlsafe(32)``) for the dashboard link
  ``/ateliers/<token>``. Only its SHA-256 is stored: the token is shown once,
  at creation, and everything of a workshop (dashboard, export, closing) is
  reached through :func:`find_by_token`.

A participant joins by giving the code to the assistant (:func:`find_open_by_code`
then :func:`join`). The diagnostics table is not touched: ``workshop_participants``
links a conversation to a workshop, and the participant's result is the latest
diagnostic of that conversation **completed after joining** and before the
workshop ended (closed or expired) and before the conversation joined another
workshop. Wrong codes are counted per conversation (:func:`record_wrong_code`):
after :data:`MAX_WRONG_CODES` within :data:`LOCK_MINUTES` minutes, codes are
refused until the oldest of them is that old (:func:`code_attempts_locked`).

:func:`dashboard` and :func:`export_csv` read a workshop in one query for all
its participants (a join, not one query per participant); neither exposes a
conversation id. Plain Python and SQLAlchemy: no Rasa, no web framework. Every
function takes an optional ``engine`` (default: the configured database) and
uses one session per unit of work; functions that depend on the time take an
optional ``now`` for tests.

Command line (creates the tables if missing)::

    python -m bot.workshops create --title "Atelier Lyon" [--hours 4]
    python -m bot.workshops close --token TOKEN
    python -m bot.workshops export --token TOKEN [--out resultats.csv]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.db import get_engine, session_scope
from bot.diagnostics import COMPLETED
from bot.models import Base, CodeAttempt, Diagnostic, Workshop, WorkshopParticipant, utcnow
from bot.questionnaire import Questionnaire
from bot.settings import get_settings

#: Characters of a code: no 0/O, no 1/I/L (they are confused when read aloud or on a projector).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
_CODE_DIGITS = frozenset(c for c in CODE_ALPHABET if c.isdigit())
_CODE_LETTERS = frozenset(c for c in CODE_ALPHABET if c.isalpha())

#: A conversation that typed this many wrong codes within LOCK_MINUTES cannot try again for a while.
MAX_WRONG_CODES = 5
LOCK_MINUTES = 10

TITLE_MAX = 120
#: Bounds of a workshop's lifetime, in hours (a few minutes to a month).
MIN_HOURS = 0.1
MAX_HOURS = 24 * 31

#: The trainer's page, and the dashboard path of a token (served by the web app).
TRAINER_PAGE = "/ateliers"

#: Separator of the CSV export (French spreadsheets use ';'), and of a list answer inside a cell.
CSV_DELIMITER = ";"
LIST_SEPARATOR = ";"
BOM = "\ufeff"

_CREATE_ATTEMPTS = 20
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
_SEPARATORS = re.compile(rf"[\s{_DASHES}]+")
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
# Three word characters, an optional space or dash, three word characters, as whole words; in a
# lookahead so that candidates may overlap (« est abc-234 »: « est abc » is tried, then « abc-234 »).
_CODE_IN_TEXT = re.compile(rf"(?=(?<!\w)([^\W_]{{3}})[ \u00a0{_DASHES}]?([^\W_]{{3}})(?!\w))")


class WorkshopNotFound(LookupError):
    """No workshop with that id (or it is not open when it must be)."""


# ----------------------------------------------------------------------- codes


def generate_code() -> str:
    """A random code of :data:`CODE_LENGTH` characters with at least one letter and one digit."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if _is_code(code):
            return code


def _is_code(code: str) -> bool:
    return (
        len(code) == CODE_LENGTH
        and all(c in CODE_ALPHABET for c in code)
        and any(c in _CODE_DIGITS for c in code)
        and any(c in _CODE_LETTERS for c in code)
    )


def normalise_code(text: str | None) -> str | None:
    """The canonical code (``ABC234``) written in ``text``, or None if ``text`` cannot be a code.

    Lower case, spaces and dashes are accepted (« abc-234 », « Abc 234 »). Characters
    that no code contains (0, O, 1, I, L, accents, punctuation) make it not a code: they
    are not guessed into others, since a code is read from the trainer's screen.
    """
    if not isinstance(text, str) or len(text) > 4 * CODE_LENGTH:
        return None
    candidate = _SEPARATORS.sub("", text).upper()
    return candidate if _is_code(candidate) else None


def candidate_codes(text: str | None) -> list[str]:
    """Every code a message may contain, most likely first, without repeats.

    « le code est abc-234 » gives ``ABC234`` before ``ESTABC``: a candidate written
    in one piece (« abc234 », « abc-234 ») comes before one split by a space, which
    may join two words of the sentence. The caller checks them against the open workshops.
    """
    if not isinstance(text, str):
        return []
    whole = normalise_code(text.strip())
    joined: list[str] = [whole] if whole else []
    spaced: list[str] = []
    for match in _CODE_IN_TEXT.finditer(text):
        code = normalise_code(match.group(1) + match.group(2))
        if code is not None:
            separator = text[match.start(1) + 3:match.start(2)]
            (spaced if separator.strip() == "" and separator else joined).append(code)
    return list(dict.fromkeys(joined + spaced))


def extract_code(text: str | None) -> str | None:
    """The most likely code written in a message (« mon code est abc-234 »), or None."""
    candidates = candidate_codes(text)
    return candidates[0] if candidates else None


def format_code(code: str) -> str:
    """The display form of a code: ``ABC-234`` (accepts any spelling :func:`normalise_code` does)."""
    canonical = normalise_code(code) or code.upper()
    half = len(canonical) // 2
    return f"{canonical[:half]}-{canonical[half:]}"


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a dashboard token: the only form in which it is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def dashboard_path(token: str) -> str:
    """Path of a workshop's dashboard on the web app."""
    return f"{TRAINER_PAGE}/{token}"


# ------------------------------------------------------------------- records


@dataclass(frozen=True)
class CreatedWorkshop:
    """A workshop just opened. ``token`` is shown to the trainer once and never stored."""

    id: int
    code: str
    title: str
    token: str = field(repr=False)
    expires_at: datetime

    @property
    def display_code(self) -> str:
        return format_code(self.code)

    @property
    def dashboard_path(self) -> str:
        return dashboard_path(self.token)


@dataclass(frozen=True)
class WorkshopInfo:
    """What may be known of a workshop once found by its code or its token."""

    id: int
    code: str
    title: str
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None

    @property
    def display_code(self) -> str:
        return format_code(self.code)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def expired(self, now: datetime | None = None) -> bool:
        return _utc(now) >= self.expires_at

    def is_open(self, now: datetime | None = None) -> bool:
        """Open = not closed and not expired: participants can join."""
        return not self.closed and not self.expired(now)

    @property
    def ended_at(self) -> datetime:
        """When results stopped counting: the closing time, or the expiry if earlier."""
        return min(self.closed_at, self.expires_at) if self.closed_at is not None else self.expires_at


def _utc(value: datetime | None) -> datetime:
    """``value`` (default: now) as an aware UTC datetime. SQLite gives back naive UTC values."""
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return _utc(value).isoformat(timespec="seconds") if value is not None else None


def _info(row: Workshop) -> WorkshopInfo:
    return WorkshopInfo(
        id=row.id,
        code=row.code,
        title=row.title,
        created_at=_utc(row.created_at),
        expires_at=_utc(row.expires_at),
        closed_at=_utc(row.closed_at) if row.closed_at is not None else None,
    )


# --------------------------------------------------------------- the trainer


def clean_title(title: object) -> str:
    """The title with runs of spaces collapsed; ``ValueError`` (French message) if empty or too long."""
    text = " ".join(title.split()) if isinstance(title, str) else ""
    if not text:
        raise ValueError("Donnez un titre à l'atelier (par exemple « Atelier Lyon, mars »).")
    if len(text) > TITLE_MAX:
        raise ValueError(f"Le titre de l'atelier est trop long : {TITLE_MAX} caractères au plus, merci.")
    return text


def _lifetime(hours: float | None) -> timedelta:
    value = get_settings().workshop_hours if hours is None else hours
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not MIN_HOURS <= value <= MAX_HOURS:
        raise ValueError(
            f"La durée de l'atelier doit être comprise entre {round(MIN_HOURS * 60)} minutes et {MAX_HOURS} heures "
            f"(31 jours) ; vous avez indiqué {value!r}."
        )
    return timedelta(hours=float(value))


def create_workshop(
    title: str, *, hours: float | None = None, now: datetime | None = None, engine: Engine | None = None
) -> CreatedWorkshop:
    """Open a workshop for ``hours`` (default: ``WORKSHOP_HOURS``) and return its code and token.

    ``ValueError`` with a French message for an empty or too long title or an
    impossible duration. The code is unique among all workshops, past ones included.
    """
    clean = clean_title(title)
    created_at = _utc(now)
    expires_at = created_at + _lifetime(hours)
    for _ in range(_CREATE_ATTEMPTS):
        code, token = generate_code(), _new_token()
        try:
            with session_scope(engine) as session:
                row = Workshop(
                    code=code, title=clean, token_hash=hash_token(token), created_at=created_at, expires_at=expires_at
                )
                session.add(row)
                session.flush()
                workshop_id = row.id
        except IntegrityError:
            continue  # the code is taken (1 chance in hundreds of millions per workshop): draw another
        return CreatedWorkshop(id=workshop_id, code=code, title=clean, token=token, expires_at=expires_at)
    raise RuntimeError("could not draw an unused workshop code")  # pragma: no cover - practically impossible


def _new_token() -> str:
    # 32 random bytes; never starting with '-', which a command line would take for an option.
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def find_by_token(token: str | None, engine: Engine | None = None) -> WorkshopInfo | None:
    """The workshop of a dashboard token (open, closed or expired), or None.

    The lookup is by hash, so it takes the same path for every token; anything that
    is not shaped like a token is refused before touching the database.
    """
    if not isinstance(token, str) or not _TOKEN_PATTERN.match(token):
        return None
    with session_scope(engine) as session:
        row = session.execute(select(Workshop).where(Workshop.token_hash == hash_token(token))).scalars().first()
        return _info(row) if row is not None else None


def close_workshop(workshop_id: int, engine: Engine | None = None, *, now: datetime | None = None) -> WorkshopInfo:
    """Close a workshop: no one can join any more and its figures stop changing.

    Closing twice keeps the first closing time. ``WorkshopNotFound`` for an unknown id.
    """
    with session_scope(engine) as session:
        row = session.get(Workshop, workshop_id)
        if row is None:
            raise WorkshopNotFound(workshop_id)
        if row.closed_at is None:
            row.closed_at = _utc(now)
        session.flush()
        return _info(row)


def keep_results(workshop_id: int, keep: bool = True, engine: Engine | None = None) -> None:
    """Keep (or stop keeping) a workshop's results past the retention age (see bot/privacy.py)."""
    with session_scope(engine) as session:
        row = session.get(Workshop, workshop_id)
        if row is None:
            raise WorkshopNotFound(workshop_id)
        row.keep_results = keep


# --------------------------------------------------------------- participants


def find_open_by_code(
    code: str | None, engine: Engine | None = None, *, now: datetime | None = None
) -> WorkshopInfo | None:
    """The open workshop (not closed, not expired) with this code, in any spelling; else None."""
    canonical = normalise_code(code)
    if canonical is None:
        return None
    moment = _utc(now)
    query = select(Workshop).where(
        Workshop.code == canonical, Workshop.closed_at.is_(None), Workshop.expires_at > moment
    )
    with session_scope(engine) as session:
        row = session.execute(query).scalars().first()
        return _info(row) if row is not None else None


def join(
    workshop_id: int, conversation_id: str, engine: Engine | None = None, *, now: datetime | None = None
) -> bool:
    """Make a conversation a participant of a workshop.

    True if this call added it, False if it already was one (a second join adds
    nothing, even when two arrive at the same time). ``WorkshopNotFound`` if the
    workshop does not exist or is no longer open.
    """
    moment = _utc(now)
    with session_scope(engine) as session:
        if _is_participant(session, workshop_id, conversation_id):
            return False
        row = session.get(Workshop, workshop_id)
        if row is None or not _info(row).is_open(moment):
            raise WorkshopNotFound(workshop_id)
    try:
        with session_scope(engine) as session:
            session.add(WorkshopParticipant(workshop_id=workshop_id, conversation_id=conversation_id, joined_at=moment))
    except IntegrityError:
        # Another request of the same conversation joined first (unique workshop_id, conversation_id).
        with session_scope(engine) as session:
            if _is_participant(session, workshop_id, conversation_id):
                return False
        raise
    return True


def _is_participant(session: Session, workshop_id: int, conversation_id: str) -> bool:
    query = select(WorkshopParticipant.id).where(
        WorkshopParticipant.workshop_id == workshop_id, WorkshopParticipant.conversation_id == conversation_id
    )
    return session.execute(query).first() is not None


def record_wrong_code(conversation_id: str, engine: Engine | None = None, *, now: datetime | None = None) -> int:
    """Count a wrong code typed in a conversation; returns the wrong codes within the lock window.

    Attempts older than the window are deleted on the way (they no longer matter).
    """
    moment = _utc(now)
    since = moment - timedelta(minutes=LOCK_MINUTES)
    with session_scope(engine) as session:
        session.execute(delete(CodeAttempt).where(CodeAttempt.attempted_at <= since))
        session.add(CodeAttempt(conversation_id=conversation_id, attempted_at=moment))
        session.flush()
        return _attempts_since(session, conversation_id, since, moment)


def _attempts_since(session: Session, conversation_id: str, since: datetime, until: datetime) -> int:
    query = select(func.count(CodeAttempt.id)).where(
        CodeAttempt.conversation_id == conversation_id,
        CodeAttempt.attempted_at > since,
        CodeAttempt.attempted_at <= until,
    )
    return int(session.execute(query).scalar_one())


def code_lock_ends_at(
    conversation_id: str, *, now: datetime | None = None, engine: Engine | None = None
) -> datetime | None:
    """When a conversation may type codes again, or None if it may now.

    Locked while it has :data:`MAX_WRONG_CODES` wrong codes or more in the last
    :data:`LOCK_MINUTES` minutes; the lock ends when the oldest of its latest
    ``MAX_WRONG_CODES`` attempts leaves that window.
    """
    moment = _utc(now)
    window = timedelta(minutes=LOCK_MINUTES)
    query = (
        select(CodeAttempt.attempted_at)
        .where(
            CodeAttempt.conversation_id == conversation_id,
            CodeAttempt.attempted_at > moment - window,
            CodeAttempt.attempted_at <= moment,
        )
        .order_by(CodeAttempt.attempted_at.desc())
        .limit(MAX_WRONG_CODES)
    )
    with session_scope(engine) as session:
        recent = [_utc(value) for value in session.execute(query).scalars()]
    if len(recent) < MAX_WRONG_CODES:
        return None
    return recent[-1] + window


def code_attempts_locked(
    conversation_id: str, *, now: datetime | None = None, engine: Engine | None = None
) -> bool:
    """True while a conversation must not try codes (too many wrong ones lately)."""
    return code_lock_ends_at(conversation_id, now=now, engine=engine) is not None


def clear_wrong_codes(conversation_id: str, engine: Engine | None = None) -> None:
    """Forget a conversation's wrong codes (it gave a right one)."""
    with session_scope(engine) as session:
        session.execute(delete(CodeAttempt).where(CodeAttempt.conversation_id == conversation_id))


# ------------------------------------------------------------------- results


@dataclass(frozen=True)
class _Finished:
    """A participant with a counted result (no conversation id: it never leaves this module)."""

    number: int
    door: str | None
    level: str | None
    maturity: int | None
    result: dict[str, Any]
    answers: dict[str, Any]
    started_at: datetime | None
    completed_at: datetime


def _workshop(session: Session, workshop_id: int) -> WorkshopInfo:
    row = session.get(Workshop, workshop_id)
    if row is None:
        raise WorkshopNotFound(workshop_id)
    return _info(row)


def _participants(
    session: Session, workshop: WorkshopInfo, *, with_answers: bool
) -> tuple[int, list[_Finished]]:
    """Number of participants, and the counted result of those who finished, in join order.

    One query: participants LEFT JOIN their conversations' diagnostics completed
    after joining, before the workshop ended and before the conversation joined
    another workshop; the latest such diagnostic of each participant wins.
    """
    participant = WorkshopParticipant
    later = aliased(WorkshopParticipant)
    next_join = (
        select(func.min(later.joined_at))
        .where(later.conversation_id == participant.conversation_id, later.joined_at > participant.joined_at)
        .correlate(participant)
        .scalar_subquery()
    )
    counted = and_(
        Diagnostic.conversation_id == participant.conversation_id,
        Diagnostic.status == COMPLETED,
        Diagnostic.completed_at >= participant.joined_at,
        Diagnostic.completed_at <= workshop.ended_at,
        or_(next_join.is_(None), Diagnostic.completed_at < next_join),
    )
    columns = [
        participant.id,
        Diagnostic.id,
        Diagnostic.door,
        Diagnostic.level,
        Diagnostic.maturity,
        Diagnostic.result,
        Diagnostic.completed_at,
    ]
    if with_answers:
        columns += [Diagnostic.answers, Diagnostic.started_at]
    query = (
        select(*columns)
        .select_from(participant)
        .outerjoin(Diagnostic, counted)
        .where(participant.workshop_id == workshop.id)
        .order_by(participant.joined_at, participant.id, Diagnostic.completed_at, Diagnostic.id)
    )
    numbers: dict[int, int] = {}
    latest: dict[int, _Finished] = {}
    for row in session.execute(query):
        number = numbers.setdefault(row[0], len(numbers) + 1)
        if row[1] is None:
            continue  # joined, not finished yet
        latest[number] = _Finished(  # rows come oldest first: the last one is the latest diagnostic
            number=number,
            door=row[2],
            level=row[3],
            maturity=row[4],
            result=dict(row[5] or {}),
            answers=dict(row[7] or {}) if with_answers else {},
            started_at=_utc(row[8]) if with_answers and row[8] is not None else None,
            completed_at=_utc(row[6]),
        )
    return len(numbers), [latest[number] for number in sorted(latest)]


def _average(total: int, count: int) -> float:
    """``total / count`` rounded half up to one decimal (exact arithmetic; values are ≥ 0)."""
    return int(Fraction(10 * total, count) + Fraction(1, 2)) / 10


def dashboard(
    workshop_id: int, survey: Questionnaire, engine: Engine | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """The live figures of a workshop, JSON-ready and anonymous (no conversation id).

    ``doors`` and ``levels`` count the finished participants for every door and
    level of ``survey`` (zeros included; they add up to ``finished``);
    ``dimensions`` is the group's average of each dimension over the finished
    participants, rounded half up to one decimal, or None for each while nobody
    has finished; ``weakest_dimension`` is the lowest average (ties in the
    questionnaire's order) or None. ``results`` lists the finished participants,
    numbered by join order. ``WorkshopNotFound`` for an unknown id.
    """
    with session_scope(engine) as session:
        workshop = _workshop(session, workshop_id)
        joined, finished = _participants(session, workshop, with_answers=False)

    doors = {door.id: 0 for door in survey.doors}
    levels = {level.id: 0 for level in survey.levels}
    totals = {dimension.id: 0 for dimension in survey.dimensions}
    counts = {dimension.id: 0 for dimension in survey.dimensions}
    results = []
    for item in finished:
        doors[item.door or ""] = doors.get(item.door or "", 0) + 1
        levels[item.level or ""] = levels.get(item.level or "", 0) + 1
        dimensions = dict(item.result.get("dimensions") or {})
        for dimension_id in totals:
            value = dimensions.get(dimension_id)
            if isinstance(value, int) and not isinstance(value, bool):
                totals[dimension_id] += value
                counts[dimension_id] += 1
        results.append(
            {
                "participant": item.number,
                "door": item.door,
                "level": item.level,
                "maturity": item.maturity,
                "dimensions": dimensions,
                "completed_at": _iso(item.completed_at),
            }
        )

    averages: dict[str, float | None] = {
        dimension_id: _average(totals[dimension_id], counts[dimension_id]) if counts[dimension_id] else None
        for dimension_id in totals
    }
    measured = [dimension_id for dimension_id in totals if counts[dimension_id]]
    weakest = (
        min(measured, key=lambda dimension_id: Fraction(totals[dimension_id], counts[dimension_id]))
        if measured
        else None
    )
    return {
        "title": workshop.title,
        "code": workshop.display_code,
        "created_at": _iso(workshop.created_at),
        "expires_at": _iso(workshop.expires_at),
        "closed_at": _iso(workshop.closed_at),
        "closed": workshop.closed,
        "open": workshop.is_open(now),
        "joined": joined,
        "finished": len(finished),
        "doors": doors,
        "levels": levels,
        "dimensions": averages,
        "weakest_dimension": weakest,
        "results": results,
    }


# ------------------------------------------------------------------ CSV export


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
        workshop = _workshop(session, workshop_id)
        _, finished = _participants(session, workshop, with_answers=True)
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
                _iso(item.started_at) or "",
                _iso(item.completed_at) or "",
            ]
        )
    return buffer.getvalue()


def export_csv_bytes(workshop_id: int, survey: Questionnaire, engine: Engine | None = None) -> bytes:
    """:func:`export_csv` encoded in UTF-8 with a byte order mark, so that spreadsheets keep the accents."""
    return (BOM + export_csv(workshop_id, survey, engine=engine)).encode("utf-8")


def export_filename(workshop: WorkshopInfo) -> str:
    """A file name for the export, e.g. ``atelier-ABC-234.csv`` (ASCII only: safe in a header)."""
    return f"atelier-{workshop.display_code}.csv"


# ------------------------------------------------------------- command line


def _token_argument(value: str) -> str:
    # Accept the whole dashboard link as well as the bare token.
    return value.strip().rstrip("/").rsplit("/", 1)[-1]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.workshops create|close|export``: the trainer's commands without the web page."""
    parser = argparse.ArgumentParser(prog="python -m bot.workshops", description="Ateliers : ouvrir, exporter, fermer.")
    parser.add_argument("--database-url", default=None, help="par défaut : DATABASE_URL des réglages")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="ouvrir un atelier")
    create.add_argument("--title", required=True, help="titre de l'atelier (120 caractères au plus)")
    create.add_argument("--hours", type=float, default=None, help="durée en heures (par défaut : WORKSHOP_HOURS)")
    close = commands.add_parser("close", help="fermer un atelier")
    close.add_argument("--token", required=True, help="jeton secret ou lien du tableau de bord")
    export = commands.add_parser("export", help="exporter les résultats anonymes en CSV")
    export.add_argument("--token", required=True, help="jeton secret ou lien du tableau de bord")
    export.add_argument("--out", default=None, help="fichier CSV à écrire (par défaut : la sortie standard)")
    keep = commands.add_parser("keep", help="conserver les résultats au-delà de la durée de conservation")
    keep.add_argument("--token", required=True, help="jeton secret ou lien du tableau de bord")
    keep.add_argument("--no", action="store_true", help="ne plus les conserver")
    args = parser.parse_args(argv)

    settings = get_settings()
    engine = get_engine(args.database_url or settings.database_url)
    Base.metadata.create_all(engine)

    if args.command == "create":
        try:
            created = create_workshop(args.title, hours=args.hours, engine=engine)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        print(f"Atelier « {created.title} » ouvert jusqu'au {created.expires_at.astimezone():%d/%m/%Y à %H:%M (%Z)}.")
        print(f"Code à donner aux participants : {created.display_code}")
        # Without PUBLIC_URL, the links point at the web app on this machine.
        site = settings.public_url or f"http://{settings.web_host}:{settings.web_port}"
        print(f"Lien pour les participants : {site}/?atelier={created.display_code}")
        print(f"Tableau de bord (lien secret, ne le diffusez pas) : {site}{created.dashboard_path}")
        print(f"Page des ateliers : {site}{TRAINER_PAGE}")
        return 0

    workshop = find_by_token(_token_argument(args.token), engine=engine)
    if workshop is None:
        print("Aucun atelier ne correspond à ce jeton : vérifiez le lien du tableau de bord.", file=sys.stderr)
        return 1
    if args.command == "keep":
        keep_results(workshop.id, not args.no, engine=engine)
        kept = "conservés au-delà de" if not args.no else "effacés, comme les autres, après"
        print(f"Résultats de l'atelier « {workshop.title} » {kept} la durée de conservation.")
        return 0
    if args.command == "close":
        closed = close_workshop(workshop.id, engine=engine)
        print(f"Atelier « {closed.title} » ({closed.display_code}) fermé : plus personne ne peut le rejoindre.")
        return 0

    from bot.loader import read_questionnaire  # the questionnaire as loaded, else the YAML file
    from bot.questionnaire import QuestionnaireError, load_questionnaire

    try:
        survey = read_questionnaire(engine)
    except QuestionnaireError:
        survey = load_questionnaire(settings.questionnaire_path)
    data = export_csv_bytes(workshop.id, survey, engine=engine)
    if args.out:
        with open(args.out, "wb") as file:
            file.write(data)
        rows = data.count(b"\r\n") - 1  # no cell holds a line break: only ids, numbers, dates and labels
        print(f"{rows} résultat(s) de l'atelier « {workshop.title} » écrit(s) dans {args.out}.")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)  # the same bytes as the file, BOM included
        sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
