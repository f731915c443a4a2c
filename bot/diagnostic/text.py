"""Text shared by every reader and writer of French: normalisation (answer reading, search, look-ups) and dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


# The same few thousand strings (names of the knowledge base, option labels, the message of the turn) are
# normalised again and again in a turn: cached, as a pure function of its text.
@lru_cache(maxsize=16_384)
def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: how user text is compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w]+", " ", without_accents).split())


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
# Diagnostics are stored in UTC; the readers are in France.
try:
    DISPLAY_TIMEZONE: tzinfo = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # a system without time zone data
    DISPLAY_TIMEZONE = timezone.utc


def local_datetime(value: object) -> datetime | None:
    """A stored date-time (a ``datetime`` or ISO text; naive means UTC) in French time, or None."""
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
    """« 22 novembre 2026 » (« 1er » for the first of the month) from a stored date-time, or None."""
    moment = local_datetime(value)
    if moment is None:
        return None
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS[moment.month - 1]} {moment.year}"
