"""Masking of what users type, before any of it is stored in the analytics tables.

:func:`mask` hides e-mail addresses, phone numbers (French formats, with or without +33, spaces, dots or
dashes) and any run of 6 or more digits; :func:`group_key` is the key under which similar messages are
grouped in the owner's inbox (lower case, no accents, no punctuation, spaces collapsed).
"""

from __future__ import annotations

import re
import unicodedata

EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[téléphone]"
NUMBER_MASK = "[nombre]"
GROUP_KEY_MAX = 200

# local@domain.tld, also with spaces around « @ » or « (at) » as people type them to dodge robots.
EMAIL = re.compile(
    r"[\w.+%-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[\w-]+)*\s*(?:\.|\(dot\)|\[dot\])\s*[a-z]{2,}",
    re.IGNORECASE,
)
# 06 12 34 56 78, 06.12.34.56.78, 06-12-34-56-78, 0612345678, +33 6 12 34 56 78, +33 (0)6 …, 0033 6 …
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)"
)
# Any other identifying number: 6 digits or more in a row, or in groups split by a space, a dot or a dash
# (« 123 456 789 », « 3000 6000 0112 », « 12.05.1980 »), except two groups of 4 (« 2024 2025 » stays readable).
LONG_DIGITS = re.compile(r"\+?\d{6,}|(?<!\d)\+?\d{1,5}(?:[ .\-]\d{1,5})+(?!\d)")
MIN_DIGITS = 6


def _long_number(match: re.Match[str]) -> str:
    groups = re.findall(r"\d+", match.group())
    if sum(len(group) for group in groups) < MIN_DIGITS or (len(groups) == 2 and max(map(len, groups)) >= 4):
        return match.group()
    return NUMBER_MASK


def mask(text: str, email: str = EMAIL_MASK, phone: str = PHONE_MASK, number: str = NUMBER_MASK) -> str:
    """``text`` with e-mail addresses, phone numbers and digit strings of 6+ digits replaced by a marker
    (the markers are the console's to choose when it masks again what it shows)."""
    masked = EMAIL.sub(email, text)
    masked = PHONE.sub(phone, masked)
    return LONG_DIGITS.sub(lambda match: number if _long_number(match) == NUMBER_MASK else match.group(), masked)


def group_key(text: str) -> str:
    """The key shared by similar messages: lower case, no accents, no punctuation, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.sub(r"[^\w\s]|_", " ", plain)
    return " ".join(words.split())[:GROUP_KEY_MAX].strip()
