"""Start and stop the running stack: Rasa server, action server and web app.

``python -m bot.runtime.stack run`` (what ``make run`` calls) writes Rasa's endpoint and
credential files from the settings, starts the three processes, waits until
each answers, and stops them all on Ctrl-C. The conversation tests use
:class:`Stack` to run one shared stack on their own ports and databases.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.paths import REPO_ROOT, RUN_DIR
from bot.runtime.processes import (
    ACTIONS_LISTEN_ENV,
    DEFAULT_MODEL,
    QUIET_ENV,
    actions_command,
    cors_origins,
    password_environment,
    rasa_run_command,
    terminate,
    wait_for,
    web_command,
)
from bot.runtime.rasa_config import write_rasa_config
from bot.settings import get_settings


@dataclass
class Stack:
    """The three processes of the assistant, on given ports, with given settings."""

    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8000
    model: Path = DEFAULT_MODEL
    run_dir: Path = RUN_DIR
    env: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    api_token: str = ""

    def __post_init__(self) -> None:
        if not self.api_token:
            configured = self.env.get("RASA_API_TOKEN") or get_settings().rasa_api_token
            self.api_token = configured or secrets.token_urlsafe(24)

    def _setting(self, name: str, default: str | None) -> str | None:
        """A setting as this stack's processes see it: its own env first, then the environment and .env."""
        return self.env.get(name) or os.environ.get(name) or default

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _environment(self) -> dict[str, str]:
        return {**QUIET_ENV, **os.environ, **self.env, **ACTIONS_LISTEN_ENV, "WEB_PORT": str(self.web_port),
                "RASA_URL": self.rasa_url, "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}/webhook"}

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        output = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=self._environment(), stdout=output, stderr=subprocess.STDOUT if output else None
        )
        self.processes[name] = process
        return process

    def start_actions(self) -> None:
        self._spawn("actions", actions_command(self.action_port))
        wait_for(f"http://127.0.0.1:{self.action_port}/health", 60, self.processes["actions"])

    def start_web(self) -> None:
        self._spawn("web", web_command())
        wait_for(f"{self.web_url}/health", 60, self.processes["web"])

    def start_rasa(self) -> None:
        environment = {**os.environ, **self.env}
        tracker_url = environment.get("TRACKER_STORE_URL") or get_settings().tracker_store_url
        lock_url = self._setting("LOCK_STORE_URL", get_settings().lock_store_url)
        endpoints, credentials = write_rasa_config(
            self.run_dir, f"http://127.0.0.1:{self.action_port}/webhook", tracker_url, lock_url
        )
        self.env = {**self.env, **password_environment(tracker_url, lock_url)}
        origins = cors_origins(self._setting("WIDGET_ORIGINS", None) or ",".join(get_settings().widget_origins))
        self._spawn("rasa", rasa_run_command("bot.runtime.rasa_launcher", self.model, self.api_token, endpoints, credentials,
                                             self.rasa_port, origins))
        wait_for(f"{self.rasa_url}/status?token={self.api_token}", 180, self.processes["rasa"])

    def start(self) -> Stack:
        self.start_actions()
        self.start_web()
        self.start_rasa()
        return self

    def stop_process(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            terminate(process)

    def stop(self) -> None:
        for name in ("rasa", "web", "actions"):
            self.stop_process(name)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the assistant: Rasa (5005), actions (5055), web app (8000).")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    stack = Stack(model=args.model)
    started = time.monotonic()
    # `kill` (SIGTERM) stops everything like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        print(
            f"Ready in {time.monotonic() - started:.0f} s: Rasa REST {stack.rasa_url}/webhooks/rest/webhook, "
            f"actions :{stack.action_port}, web {stack.web_url}. Ctrl-C stops everything.",
            flush=True,
        )
        while all(process.poll() is None for process in stack.processes.values()):
            time.sleep(1)
        print("a process stopped; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
