"""A second mask on typed text before the console shows or exports it (the first is the pipeline's, at storage).

The pipeline (bot.analytics) masks e-mail addresses, phone numbers and long digit strings before a
message is stored. Should a text ever reach the tables unmasked (an older row, a pattern the pipeline
missed), the console masks it again, with the same patterns (:func:`bot.analytics.masking.mask`) and
markers of its own, rather than show it.
"""

from __future__ import annotations

from bot.analytics.masking import mask

EMAIL_MASK, PHONE_MASK, DIGITS_MASK = "[e-mail masqué]", "[téléphone masqué]", "[numéro masqué]"


def redact(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and digit strings of 6 or more replaced by a mask."""
    return mask(text, email=EMAIL_MASK, phone=PHONE_MASK, number=DIGITS_MASK)
