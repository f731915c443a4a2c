"""Shared fixtures: one running stack (Rasa, actions, web app) for every test that talks to it.

The stack runs on its own ports with throw-away databases, so a developer's
`make run` can stay up while `make test` runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runtime.stack import DEFAULT_MODEL, Stack
from tests.client import Client

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "output"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first")
    data_dir = tmp_path_factory.mktemp("stack")
    env = {
        "DATABASE_URL": f"sqlite:///{data_dir / 'alliance.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{data_dir / 'tracker.db'}",
        "EVENT_STORE_URL": f"sqlite:///{data_dir / 'events.db'}",
    }
    subprocess.run([sys.executable, "-m", "bot.store.loader"], cwd=ROOT, env={**os.environ, **env}, check=True)
    running = Stack(
        rasa_port=int(os.environ.get("TEST_RASA_PORT", "15005")),
        action_port=int(os.environ.get("TEST_ACTION_PORT", "15055")),
        web_port=int(os.environ.get("TEST_WEB_PORT", "18000")),
        run_dir=data_dir,
        env=env,
        log_dir=OUTPUT / "stack",
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def client(stack: Stack) -> Client:
    return Client(stack.rasa_url, stack.web_url, stack.api_token)
