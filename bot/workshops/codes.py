"""Workshop codes and dashboard tokens: drawing, reading back, formatting and hashing them.

A participant joins with a short **code**, easy to read aloud: six characters
from :data:`CODE_ALPHABET` (no 0/O, 1/I/L), always at least one letter and one
digit (so that an ordinary word of a sentence is never taken for a code), shown
as ``ABC-234``. The trainer's dashboard is reached with a secret **token**
(``secrets.token_urlsafe(32)``) of which only the SHA-256 is stored.
"""
from __future__ import annotations

import hashlib
import re
import secrets

#: Characters of a code: no 0/O, no 1/I/L (they are confused when read aloud or on a projector).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
_CODE_DIGITS = frozenset(c for c in CODE_ALPHABET if c.isdigit())
_CODE_LETTERS = frozenset(c for c in CODE_ALPHABET if c.isalpha())

#: The trainer's page, and the dashboard path of a token (served by the web app).
TRAINER_PAGE = "/ateliers"

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
_SEPARATORS = re.compile(rf"[\s{_DASHES}]+")
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
# Three word characters, an optional space or dash, three word characters, as whole words; in a
# lookahead so that candidates may overlap (« est abc-234 »: « est abc » is tried, then « abc-234 »).
_CODE_IN_TEXT = re.compile(rf"(?=(?<!\w)([^\W_]{{3}})[ \u00a0{_DASHES}]?([^\W_]{{3}})(?!\w))")


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



def new_token() -> str:
    """A dashboard token: 32 random bytes, URL-safe."""
    # 32 random bytes; never starting with '-', which a command line would take for an option.
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token
