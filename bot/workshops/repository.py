"""Workshops in the database: opening, finding, closing, joining, and counting wrong codes.

A trainer opens a workshop (:func:`create_workshop`) and gets its code and its
secret token, shown once. A participant joins by giving the code to the assistant
(:func:`find_open_by_code` then :func:`join`). The diagnostics table is not
touched: ``workshop_participants`` links a conversation to a workshop. Wrong codes
are counted per conversation (:func:`record_wrong_code`): after
:data:`MAX_WRONG_CODES` within :data:`LOCK_MINUTES` minutes, codes are refused
until the oldest of them is that old (:func:`code_attempts_locked`).

Every function takes an optional ``engine`` (default: the configured database)
and uses one session per unit of work; functions that depend on the time take an
optional ``now`` for tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.settings import get_settings
from bot.store.db import session_scope
from bot.store.tables import CodeAttempt, Workshop, WorkshopParticipant, utcnow
from bot.workshops.codes import (
    TOKEN_PATTERN,
    dashboard_path,
    format_code,
    generate_code,
    hash_token,
    new_token,
    normalise_code,
)

#: A conversation that typed this many wrong codes within LOCK_MINUTES cannot try again for a while.
MAX_WRONG_CODES = 5
LOCK_MINUTES = 10


TITLE_MAX = 120
#: Bounds of a workshop's lifetime, in hours (a few minutes to a month).
MIN_HOURS = 0.1
MAX_HOURS = 24 * 31

_CREATE_ATTEMPTS = 20


class WorkshopNotFound(LookupError):
    """No workshop with that id (or it is not open when it must be)."""



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
        return as_utc(now) >= self.expires_at

    def is_open(self, now: datetime | None = None) -> bool:
        """Open = not closed and not expired: participants can join."""
        return not self.closed and not self.expired(now)

    @property
    def ended_at(self) -> datetime:
        """When results stopped counting: the closing time, or the expiry if earlier."""
        return min(self.closed_at, self.expires_at) if self.closed_at is not None else self.expires_at


def as_utc(value: datetime | None) -> datetime:
    """``value`` (default: now) as an aware UTC datetime. SQLite gives back naive UTC values."""
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso_utc(value: datetime | None) -> str | None:
    return as_utc(value).isoformat(timespec="seconds") if value is not None else None


def workshop_info(row: Workshop) -> WorkshopInfo:
    return WorkshopInfo(
        id=row.id,
        code=row.code,
        title=row.title,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        closed_at=as_utc(row.closed_at) if row.closed_at is not None else None,
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
    created_at = as_utc(now)
    expires_at = created_at + _lifetime(hours)
    for _ in range(_CREATE_ATTEMPTS):
        code, token = generate_code(), new_token()
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



def find_by_token(token: str | None, engine: Engine | None = None) -> WorkshopInfo | None:
    """The workshop of a dashboard token (open, closed or expired), or None.

    The lookup is by hash, so it takes the same path for every token; anything that
    is not shaped like a token is refused before touching the database.
    """
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        return None
    with session_scope(engine) as session:
        row = session.execute(select(Workshop).where(Workshop.token_hash == hash_token(token))).scalars().first()
        return workshop_info(row) if row is not None else None


def close_workshop(workshop_id: int, engine: Engine | None = None, *, now: datetime | None = None) -> WorkshopInfo:
    """Close a workshop: no one can join any more and its figures stop changing.

    Closing twice keeps the first closing time. ``WorkshopNotFound`` for an unknown id.
    """
    with session_scope(engine) as session:
        row = session.get(Workshop, workshop_id)
        if row is None:
            raise WorkshopNotFound(workshop_id)
        if row.closed_at is None:
            row.closed_at = as_utc(now)
        session.flush()
        return workshop_info(row)


def keep_results(workshop_id: int, keep: bool = True, engine: Engine | None = None) -> None:
    """Keep (or stop keeping) a workshop's results past the retention age (see bot/store/privacy.py)."""
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
    moment = as_utc(now)
    query = select(Workshop).where(
        Workshop.code == canonical, Workshop.closed_at.is_(None), Workshop.expires_at > moment
    )
    with session_scope(engine) as session:
        row = session.execute(query).scalars().first()
        return workshop_info(row) if row is not None else None


def join(
    workshop_id: int, conversation_id: str, engine: Engine | None = None, *, now: datetime | None = None
) -> bool:
    """Make a conversation a participant of a workshop.

    True if this call added it, False if it already was one (a second join adds
    nothing, even when two arrive at the same time). ``WorkshopNotFound`` if the
    workshop does not exist or is no longer open.
    """
    moment = as_utc(now)
    with session_scope(engine) as session:
        if _is_participant(session, workshop_id, conversation_id):
            return False
        row = session.get(Workshop, workshop_id)
        if row is None or not workshop_info(row).is_open(moment):
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
    moment = as_utc(now)
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
    moment = as_utc(now)
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
        recent = [as_utc(value) for value in session.execute(query).scalars()]
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
