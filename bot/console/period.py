"""The period a console page covers, and how it is cut into days, weeks or months.

Dates are the owner's dates, in :data:`TIMEZONE`; the database stores UTC. A period runs from
the start of its first day to the end of its last day (both included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    TIMEZONE: timezone | ZoneInfo = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database on this machine: UTC rather than a crash
    TIMEZONE = timezone.utc

DEFAULT_DAYS = 30
#: Longest period accepted (a typing mistake such as year 1026 should not scan centuries).
MAX_DAYS = 3 * 366
DAY, WEEK, MONTH = "day", "week", "month"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


class PeriodError(ValueError):
    """A period that cannot be read; the message is for the owner, in French."""


@dataclass(frozen=True)
class Period:
    """From ``first`` to ``last``, both days included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first instant of the period, in UTC."""
        return datetime.combine(self.first, time(0), TIMEZONE).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        """The first instant after the period, in UTC."""
        return datetime.combine(self.last + timedelta(days=1), time(0), TIMEZONE).astimezone(timezone.utc)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def unit(self) -> str:
        """Days for a month or less, weeks up to half a year, months beyond."""
        if self.days <= 31:
            return DAY
        return WEEK if self.days <= 183 else MONTH

    def start_of(self, day: date) -> datetime:
        """The owner's midnight starting ``day``, in UTC."""
        return datetime.combine(day, time(0), TIMEZONE).astimezone(timezone.utc)

    def bucket(self, moment: datetime) -> date:
        """The first day of the bucket ``moment`` falls in (``moment`` naive means UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        day = moment.astimezone(TIMEZONE).date()
        if self.unit == DAY:
            return day
        if self.unit == WEEK:
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def buckets(self) -> list[date]:
        """Every bucket of the period, in order (empty ones included)."""
        found: list[date] = []
        day = self.first
        while day <= self.last:
            key = self.bucket(datetime.combine(day, time(12), TIMEZONE))
            if not found or found[-1] != key:
                found.append(key)
            day += timedelta(days=1)
        return found

    def bucket_label(self, first_day: date) -> str:
        """« 3 déc. »-like labels in French: « 3 décembre », « semaine du 1 décembre », « décembre 2026 »."""
        if self.unit == MONTH:
            return f"{MONTHS[first_day.month - 1]} {first_day.year}"
        text = f"{first_day.day} {MONTHS[first_day.month - 1]}"
        return f"semaine du {text}" if self.unit == WEEK else text

    def describe(self) -> str:
        return f"du {french_date(self.first)} au {french_date(self.last)}"


def french_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def local_date(moment: datetime) -> date:
    """The owner's date of a stored instant (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(TIMEZONE).date()


def today() -> date:
    return datetime.now(TIMEZONE).date()


def default_period(now: date | None = None) -> Period:
    """The last :data:`DEFAULT_DAYS` days, today included."""
    last = now or today()
    return Period(last - timedelta(days=DEFAULT_DAYS - 1), last)


def parse_period(first: str | None, last: str | None, now: date | None = None) -> Period:
    """The period of two ISO dates (« 2026-11-01 »); a missing one takes its default value."""
    default = default_period(now)
    try:
        start = date.fromisoformat(first) if first else default.first
        stop = date.fromisoformat(last) if last else default.last
    except ValueError as error:
        raise PeriodError("Écrivez les dates sous la forme année-mois-jour, par exemple 2026-11-30.") from error
    if start > stop:
        raise PeriodError("La date de début doit précéder la date de fin.")
    if (stop - start).days + 1 > MAX_DAYS:
        raise PeriodError(f"Choisissez une période de {MAX_DAYS} jours au plus.")
    return Period(start, stop)
