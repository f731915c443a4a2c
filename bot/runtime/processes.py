"""The processes the project starts: their commands and environment, waiting for them, stopping them.

Shared by ``make run`` (:mod:`.stack`), production mode (:mod:`.production`), the tests and the
benchmarks, so that every process is started the same way.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bot.paths import REPO_ROOT

#: The trained assistant that ``make train`` writes and every Rasa server loads.
DEFAULT_MODEL = REPO_ROOT / "models" / "alliance.tar.gz"
VENV_BIN = Path(sys.executable).parent
# Every process started by the project: no telemetry (this machine talks to 127.0.0.1 only), quiet logs.
QUIET_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
# How the Rasa servers run their numerical libraries on this kind of machine (docs/performance.md has the
# measurements). One message at a time is a handful of small matrix products: TensorFlow's and OpenMP's
# worker pools (one thread per core each, spinning while they wait for work) cost more CPU than they save,
# and fight the other processes for 2 cores. glibc gives each thread its own malloc arena (up to 8 per
# core), which stays resident after the load; 2 arenas are enough for these mostly single-threaded servers.
# A variable already set in the environment wins.
RASA_TUNING_ENV = {
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",  # read by Rasa (rasa.utils.tensorflow.environment)
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}
# The action server and the web app: no TensorFlow, but numpy (the search index) and worker threads.
SERVICE_TUNING_ENV = {"OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
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


def password_environment(tracker_store_url: str, lock_store_url: str | None, event_store_url: str | None = None,
                         rabbitmq_url: str | None = None) -> dict[str, str]:
    """The passwords of the stores and brokers, for Rasa's environment: endpoints.yml refers to them, never holds them."""
    rabbitmq = urlsplit(rabbitmq_url) if rabbitmq_url else None
    passwords = {
        "TRACKER_STORE_PASSWORD": urlsplit(tracker_store_url).password,
        "LOCK_STORE_PASSWORD": urlsplit(lock_store_url).password if lock_store_url else None,
        "EVENT_STORE_PASSWORD": urlsplit(event_store_url).password if event_store_url else None,
        # Rasa's Pika broker always needs one (RabbitMQ's default user is guest/guest).
        "RABBITMQ_PASSWORD": (rabbitmq.password or "guest") if rabbitmq else None,
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


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers 200 now (a readiness check of the supervisor)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    try:
        # The scheme is checked above, so bandit's B310 (file:// and custom schemes) does not apply.
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def accepts(port: int, host: str = LOOPBACK, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``host:port`` now (nginx's readiness check)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout`` seconds pass."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        if answers(url):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


