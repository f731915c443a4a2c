"""Start, supervise and stop the running stack: Rasa server, action server and web app.

``python -m bot.runtime.stack run`` (what ``make run`` calls) writes Rasa's endpoint and
credential files from the settings, starts the three processes, waits until
each answers, starts again any that crashes (:mod:`.supervisor`: backoff, logged to the
standard error and ``.run/supervisor.log``), and stops them all on Ctrl-C or SIGTERM. The
conversation tests use :class:`Stack` to run one shared stack on their own ports and databases.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.paths import REPO_ROOT, RUN_DIR
from bot.runtime.processes import (
    ACTIONS_LISTEN_ENV,
    DEFAULT_MODEL,
    QUIET_ENV,
    RASA_TUNING_ENV,
    SERVICE_TUNING_ENV,
    actions_command,
    answers,
    cors_origins,
    password_environment,
    rasa_run_command,
    web_command,
)
from bot.runtime.rasa_config import sql_event_broker_config, write_rasa_config
from bot.runtime.supervisor import ProcessSpec, Supervisor, log_to_stderr, run_until_stopped
from bot.settings import get_settings

# Seconds for the Rasa server to load its model and answer /status (RASA_START_TIMEOUT: more on a busy machine).
RASA_START_TIMEOUT = float(os.environ.get("RASA_START_TIMEOUT") or 180.0)
SERVICE_TIMEOUT = 60.0  # seconds for the action server and the web app


@dataclass
class Stack:
    """The three processes of the assistant, on given ports, with given settings, supervised (:mod:`.supervisor`):
    a process that crashes is started again, the others keep serving."""

    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8000
    model: Path = DEFAULT_MODEL
    run_dir: Path = RUN_DIR
    env: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    api_token: str = ""
    # Thread pools and allocator of the Rasa server and of the others (bot.runtime.processes); a benchmark
    # gives {} to measure without them.
    rasa_tuning: Mapping[str, str] = field(default_factory=lambda: dict(RASA_TUNING_ENV))
    service_tuning: Mapping[str, str] = field(default_factory=lambda: dict(SERVICE_TUNING_ENV))
    rasa_start_timeout: float = RASA_START_TIMEOUT  # a benchmark on a busy shared machine gives more
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        if not self.api_token:
            configured = self.env.get("RASA_API_TOKEN") or get_settings().rasa_api_token
            self.api_token = configured or secrets.token_urlsafe(24)
        self.supervisor = Supervisor(log_path=(self.log_dir or self.run_dir) / "supervisor.log")

    def _setting(self, name: str, default: str | None) -> str | None:
        """A setting as this stack's processes see it: its own env first, then the environment and .env."""
        return self.env.get(name) or os.environ.get(name) or default

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        """The current process of each name (a restarted one has a new pid)."""
        return self.supervisor.processes

    def _environment(self, tuning: Mapping[str, str]) -> dict[str, str]:
        return {**QUIET_ENV, **tuning, **os.environ, **self.env, **ACTIONS_LISTEN_ENV, "WEB_PORT": str(self.web_port),
                "RASA_URL": self.rasa_url, "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}/webhook"}

    def _spec(self, name: str, command: list[str], ready_url: str, timeout: float) -> ProcessSpec:
        tuning = self.rasa_tuning if name == "rasa" else self.service_tuning
        return ProcessSpec(name, command, env=self._environment(tuning), cwd=REPO_ROOT,
                           log_path=self.log_dir / f"{name}.log" if self.log_dir is not None else None,
                           ready=lambda: answers(ready_url), start_timeout=timeout)

    def actions_spec(self) -> ProcessSpec:
        return self._spec("actions", actions_command(self.action_port), f"http://127.0.0.1:{self.action_port}/health",
                          SERVICE_TIMEOUT)

    def web_spec(self) -> ProcessSpec:
        return self._spec("web", web_command(), f"{self.web_url}/health", SERVICE_TIMEOUT)

    def rasa_spec(self) -> ProcessSpec:
        """Writes Rasa's endpoints.yml and credentials.yml, then gives the Rasa server's spec."""
        environment = {**os.environ, **self.env}
        tracker_url = environment.get("TRACKER_STORE_URL") or get_settings().tracker_store_url
        lock_url = self._setting("LOCK_STORE_URL", get_settings().lock_store_url)
        # Rasa's SQL event broker writes every event for the analytics (bot/analytics, docs/analytics.md).
        event_url = self._setting("EVENT_STORE_URL", get_settings().event_store_url) or get_settings().event_store_url
        endpoints, credentials = write_rasa_config(
            self.run_dir, f"http://127.0.0.1:{self.action_port}/webhook", tracker_url, lock_url,
            sql_event_broker_config(event_url) if self._setting("EVENT_BROKER", "sql") != "none" else "",
        )
        self.env = {**self.env, **password_environment(tracker_url, lock_url, event_url)}
        origins = cors_origins(self._setting("WIDGET_ORIGINS", None) or ",".join(get_settings().widget_origins))
        command = rasa_run_command("bot.runtime.rasa_launcher", self.model, self.api_token, endpoints, credentials,
                                   self.rasa_port, origins)
        return self._spec("rasa", command, f"{self.rasa_url}/status?token={self.api_token}", self.rasa_start_timeout)

    def process_specs(self) -> list[ProcessSpec]:
        """Every process, in start order (they stop in the reverse order)."""
        return [self.actions_spec(), self.web_spec(), self.rasa_spec()]

    def start_actions(self) -> None:
        self.supervisor.start(self.actions_spec())

    def start_web(self) -> None:
        self.supervisor.start(self.web_spec())

    def start_rasa(self) -> None:
        self.supervisor.start(self.rasa_spec())

    def start(self) -> Stack:
        """Start every process and wait until each serves; on a failure, stop them all and raise."""
        self.supervisor.start_all(self.process_specs())
        return self

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to one process (``kill -9``, for the tests); the supervisor starts it again. Its old pid."""
        return self.supervisor.kill(name, sig)

    def stop_process(self, name: str) -> None:
        """Stop one process for good (no restart) until its ``start_…`` is called."""
        self.supervisor.stop([name])

    def stop(self) -> None:
        self.supervisor.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the assistant: Rasa (5005), actions (5055), web app (8000).")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    stack = Stack(model=args.model)
    started = time.monotonic()
    log_to_stderr()

    def ready() -> None:
        print(
            f"Ready in {time.monotonic() - started:.0f} s: Rasa REST {stack.rasa_url}/webhooks/rest/webhook, "
            f"actions :{stack.action_port}, web {stack.web_url}. A process that stops is started again "
            f"(logged here and in {stack.supervisor.log_path}); Ctrl-C stops everything.",
            flush=True,
        )

    # Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) stop everything.
    return run_until_stopped(stack.supervisor, stack.start, ready)


if __name__ == "__main__":
    raise SystemExit(main())
