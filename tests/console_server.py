"""A web app with the owner's console, on a seeded throw-away database: for the console's web and browser tests.

Only the web app runs (the console reads the database: no Rasa, no action server). Its port is
``TEST_CONSOLE_WEB_PORT`` when set, else a free one (never TEST_WEB_PORT: in `make conversation` the
shared stack's web app holds that one while the console's browser test runs).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.console.password import hash_password
from bot.diagnostic.questionnaire import load_questionnaire
from bot.runtime.processes import accepts, terminate, wait_for
from bot.store.db import build_engine
from tests import console_seed

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "une phrase de passe pour les tests"


@dataclass(frozen=True)
class ConsoleServer:
    url: str
    database_url: str
    log: Path


def _port() -> int:
    if os.environ.get("TEST_CONSOLE_WEB_PORT"):
        return int(os.environ["TEST_CONSOLE_WEB_PORT"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def console_server(folder: Path, *, password: str | None = PASSWORD, seed: bool = True,
                   proxies: int = 0, extra_env: dict[str, str] | None = None) -> Iterator[ConsoleServer]:
    """A web app on a new database in ``folder`` (seeded with tests.console_seed.scripted), stopped after.

    ``proxies=1``: the web app trusts one proxy's X-Forwarded-For and X-Forwarded-Proto, as behind nginx.
    """
    database_url = f"sqlite:///{folder / 'console.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "WEB_HOST": "127.0.0.1", "WEB_PORT": str(_port()),
           "ADMIN_PASSWORD_HASH": hash_password(password) if password else "", "PROXIES_COUNT": str(proxies), **(extra_env or {})}
    subprocess.run([sys.executable, "-m", "bot.store.loader"], cwd=ROOT, env=env, check=True, capture_output=True)
    if seed:
        engine = build_engine(database_url)
        console_seed.scripted(engine, load_questionnaire())
        engine.dispose()
    if accepts(int(env["WEB_PORT"])):
        raise RuntimeError(f"port {env['WEB_PORT']} is already taken: is another web app still running?")
    log = folder / "web.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['WEB_PORT']}"
    try:
        try:
            wait_for(f"{url}/health", timeout=30, process=process)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}\n{log.read_text(encoding='utf-8', errors='replace')[-3000:]}") from error
        yield ConsoleServer(url, database_url, log)
    finally:
        terminate(process)
