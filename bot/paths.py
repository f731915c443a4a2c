"""Where the project's files are: the repository, its data, its models and its run directory.

A leaf module (it imports nothing of the project), so that every package may use it.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
MODELS_DIR = REPO_ROOT / "models"
RUN_DIR = REPO_ROOT / ".run"
#: Compiled programs of very long regular expressions (spaCy's French tokenizer), see bot/regex_cache.py.
REGEX_CACHE = MODELS_DIR / "regex-cache"
