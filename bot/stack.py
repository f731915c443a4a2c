"""Start and stop the running stack: Rasa server, action server and web app.

``python -m bot.stack run`` (what ``make run`` calls) writes Rasa's endpoint and
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
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import REPO_ROOT, RUN_DIR, get_settings

DEFAULT_MODEL = REPO_ROOT / "models" / "alliance.tar.gz"
VENV_BIN = Path(sys.executable).parent
# Every process started by the project: no telemetry (this machine talks to 127.0.0.1 only), quiet logs.
QUIET_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
STOP_TIMEOUT = 20.0  # seconds a process has to stop on SIGTERM before it is killed


# Rasa and the action server listen on loopback only: the public way in is the web app (behind nginx in
# production), and the action server has no authentication at all. Both default to every interface.
LOOPBACK = "127.0.0.1"
# rasa_sdk has no option for its address; it reads this variable.
ACTIONS_LISTEN_ENV = {"SANIC_HOST": LOOPBACK}


def rasa_run_command(launcher: str, model: Path, api_token: str, endpoints: Path, credentials: Path, port: int,
                     cors: list[str]) -> list[str]:
    """``python -m <launcher> run …``: one Rasa server with its HTTP API behind ``api_token``, on loopback.

    The token is joined to its option (``--auth-token=…``): a random token may begin with "-", which argparse
    would otherwise take for an option (Rasa then exits with code 2).
    """
    return [str(VENV_BIN / "python"), "-m", *launcher.split(), "run", "--model", str(model),
            "--enable-api", f"--auth-token={api_token}", "--endpoints", str(endpoints),
            "--credentials", str(credentials), "--interface", LOOPBACK, "--port", str(port),
            *(["--cors", *cors] if cors else [])]


def actions_command(port: int) -> list[str]:
    """The action server (``actions/``) on ``port``; start it with :data:`ACTIONS_LISTEN_ENV`."""
    return [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)]


def web_command() -> list[str]:
    """The web app (its port comes from WEB_PORT)."""
    return [str(VENV_BIN / "python"), "-m", "bot.web"]


def cors_origins(value: str | None) -> list[str]:
    """``--cors`` arguments for Rasa from WIDGET_ORIGINS (comma-separated), ``*`` when empty."""
    return [origin.strip() for origin in (value or "").split(",") if origin.strip()] or ["*"]


def password_environment(tracker_store_url: str, lock_store_url: str | None) -> dict[str, str]:
    """The passwords of the stores, for Rasa's environment: endpoints.yml refers to them, never holds them."""
    passwords = {
        "TRACKER_STORE_PASSWORD": urlsplit(tracker_store_url).password,
        "LOCK_STORE_PASSWORD": urlsplit(lock_store_url).password if lock_store_url else None,
    }
    return {name: password for name, password in passwords.items() if password}


def terminate(process: subprocess.Popen, timeout: float = STOP_TIMEOUT, *, group: bool = False) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout`` seconds; reaped either way.

    ``group``: signal the whole process group the process leads (started with ``start_new_session``).
    """
    if process.poll() is not None:
        return

    def send(sig: int) -> None:
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)

    send(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=timeout)


TRACKER_STORE_CLASS = "bot.rasa_tracker_store.IncrementalSQLTrackerStore"


def tracker_store_config(url: str, cache_size: int = 500) -> str:
    """Rasa's ``tracker_store`` section for an SQLAlchemy-style URL (SQLite or PostgreSQL).

    The store is Rasa's SQL store reading only new events (bot/rasa_tracker_store.py).
    """
    parts = urlsplit(url)
    head = ["tracker_store:", f"  type: {TRACKER_STORE_CLASS}", f"  cache_size: {cache_size}"]
    if parts.scheme.startswith("sqlite"):
        return "\n".join([*head, "  dialect: sqlite", f"  db: {url.split(':///', 1)[1]}"]) + "\n"
    lines = [*head, "  dialect: postgresql", f"  url: {parts.hostname}"]
    if parts.port:
        lines.append(f"  port: {parts.port}")
    lines.append(f"  db: {parts.path.lstrip('/')}")
    if parts.username:
        lines.append(f"  username: {parts.username}")
    if parts.password:
        # Rasa expands ${VAR}: the password stays in the environment (set by Stack), not in the file.
        lines.append("  password: ${TRACKER_STORE_PASSWORD}")
    lines.append("  login_db: postgres")
    return "\n".join(lines) + "\n"


def lock_store_config(url: str | None) -> str:
    """Rasa's ``lock_store`` section: Redis for ``redis://host:port/db``, nothing (in-memory) without a URL."""
    if not url:
        return ""
    parts = urlsplit(url)
    lines = ["lock_store:", "  type: redis", f"  url: {parts.hostname}", f"  port: {parts.port or 6379}",
             f"  db: {parts.path.lstrip('/') or 0}", "  key_prefix: alliance"]
    if parts.password:
        lines.append("  password: ${LOCK_STORE_PASSWORD}")
    return "\n".join(lines) + "\n"


def write_rasa_config(
    run_dir: Path, action_server_url: str, tracker_store_url: str, lock_store_url: str | None = None
) -> tuple[Path, Path]:
    """Write endpoints.yml and credentials.yml for ``rasa run``; return their paths."""
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints = run_dir / "endpoints.yml"
    endpoints.write_text(
        "# Generated by bot/stack.py from the settings (.env): do not edit.\n"
        # Selective domain: the domain is not serialised into every action call (none of ours reads it).
        f"action_endpoint:\n  url: {action_server_url}\n  enable_selective_domain: true\n"
        + tracker_store_config(tracker_store_url, get_settings().tracker_cache_size)
        + lock_store_config(lock_store_url),
        encoding="utf-8",
    )
    credentials = run_dir / "credentials.yml"
    credentials.write_text("# Generated by bot/stack.py: the channels Rasa listens on.\nrest:\n", encoding="utf-8")
    return endpoints, credentials


def wait_for(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout`` seconds pass."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            # The scheme is checked above, so bandit's B310 (file:// and custom schemes) does not apply.
            with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


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
        self._spawn("rasa", rasa_run_command("bot.rasa_launcher", self.model, self.api_token, endpoints, credentials,
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
