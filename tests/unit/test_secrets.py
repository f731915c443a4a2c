"""Secrets stay out of the repository: only .env holds them, and git ignores it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_VARIABLES = ("RASA_API_TOKEN", "TRACKER_STORE_URL", "DATABASE_URL", "LOCK_STORE_URL")


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return listed.stdout.split()


def test_env_files_are_ignored_and_untracked() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".env must be in .gitignore"
    assert ".env" not in tracked_files()


def test_the_example_settings_hold_no_secret() -> None:
    # Every setting of .env.example is commented out, and no URL in it carries a password.
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        assert not line.strip() or line.lstrip().startswith("#"), line
        assert not re.search(r"://[^/@\s]+:[^/@\s]+@", line), f"a password in .env.example: {line}"


def test_no_tracked_file_sets_a_secret_variable() -> None:
    assignment = re.compile(rf"^\s*({'|'.join(SECRET_VARIABLES)})=\S", re.MULTILINE)
    offenders = [
        name for name in tracked_files()
        if name.endswith((".py", ".yml", ".yaml", ".sh", ".conf", ".cfg", ".ini", ".txt", ".md", "Makefile"))
        and assignment.search((ROOT / name).read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
