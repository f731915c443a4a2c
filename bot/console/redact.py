"""A second mask on typed text before the console shows or exports it (the first is the pipeline's, at storage).

The pipeline (bot.analytics) masks e-mail addresses, phone numbers and long digit strings before a
message is stored. Should a text ever reach the tables unmasked (an older row, a pattern the pipeline
missed), the console masks it again rather than show it: the inbox never shows what looks like an
address or a number that identifies someone.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# French and international phone numbers, with spaces, dots or dashes between the groups.
PHONE = re.compile(r"(?<!\w)(?:\+\d{1,3}[\s.-]?(?:\(0\))?[\s.-]?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\w)")
LONG_DIGITS = re.compile(r"\d(?:[\s.-]?\d){7,}")
EMAIL_MASK, PHONE_MASK, DIGITS_MASK = "[e-mail masqué]", "[téléphone masqué]", "[numéro masqué]"


def redact(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and digit strings of 8 or more replaced by a mask."""
    text = EMAIL.sub(EMAIL_MASK, text)
    text = PHONE.sub(PHONE_MASK, text)
    return LONG_DIGITS.sub(DIGITS_MASK, text)
