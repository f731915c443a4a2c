"""The console password: a salted scrypt hash in ``.env`` (``ADMIN_PASSWORD_HASH``), never the password.

The hash reads ``scrypt:<n>:<r>:<p>:<salt>:<key>`` (salt and key in URL-safe base64), so that the
cost can be raised later without breaking the hashes already written. Checking one costs about
50 ms and 16 MB: slow for a guesser, unnoticed at login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from pathlib import Path

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
KEY_BYTES = 32
MIN_LENGTH = 12
ENV_NAME = "ADMIN_PASSWORD_HASH"


class WeakPassword(ValueError):
    """The password is refused; the message says why, in French."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=KEY_BYTES)


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Choisissez un mot de passe d'au moins {MIN_LENGTH} caractères.")
    if len(set(password)) < 5:
        raise WeakPassword("Ce mot de passe répète trop les mêmes caractères : choisissez-en un plus varié.")


def hash_password(password: str) -> str:
    """A new salted hash of ``password`` (after :func:`check_strength`)."""
    check_strength(password)
    salt = secrets.token_bytes(16)
    return f"{SCHEME}:{N}:{R}:{P}:{_b64(salt)}:{_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the ``stored`` hash (False for a missing or malformed hash)."""
    if not stored or len(password) > 1024:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split(":")
        if scheme != SCHEME:
            return False
        derived = _derive(password, _unb64(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, _unb64(key))
    except (ValueError, TypeError):
        return False


def write_env(env_path: Path, hashed: str) -> None:
    """Set ``ADMIN_PASSWORD_HASH`` in ``env_path`` (created if missing; the other lines are kept)."""
    line = f"{ENV_NAME}='{hashed}'"
    lines = env_path.read_text(encoding="utf-8").splitlines() if env_path.exists() else []
    pattern = re.compile(rf"^\s*(export\s+)?{ENV_NAME}\s*=")
    kept = [item for item in lines if not pattern.match(item)]
    kept.append(line)
    env_path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    env_path.chmod(0o600)
