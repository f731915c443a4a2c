"""The processes a benchmark starts and watches: the stock ``rasa init`` bot, our stack, their CPU and memory.

Every process started here is stopped on the way out; ports are checked free first.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.load import reply_text
from bot.runtime.processes import QUIET_ENV, terminate, wait_for
from bot.runtime.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench" / "results"
LOG_DIR = RESULTS_DIR / "logs"
STOCK_DIR = ROOT / ".cache" / "stock_bot"

# BENCH_PORT_OFFSET moves every port below (e.g. 20000: 45005…, 48000…), so that a benchmark can run beside
# another one, or beside a test stack, on a shared machine.
PORT_OFFSET = int(os.environ.get("BENCH_PORT_OFFSET", "0"))
OUR_PORTS = (25005 + PORT_OFFSET, 25055 + PORT_OFFSET, 28000 + PORT_OFFSET)  # Rasa, action server, web app
COLD_PORTS = (25006 + PORT_OFFSET, 25056 + PORT_OFFSET, 28001 + PORT_OFFSET)  # only to time the cold start
STOCK_PORT = 25105 + PORT_OFFSET
STOCK_URL = f"http://127.0.0.1:{STOCK_PORT}"

START_TIMEOUT = 600.0  # seconds, one bot until it answers /status (a shared machine may be very busy)
FIRST_REPLY_TIMEOUT = 120.0
INIT_TIMEOUT = 1800.0  # `rasa init` (trains the moodbot)
TRAIN_TIMEOUT = 3600.0
LOADER_TIMEOUT = 300.0


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **QUIET_ENV, **(extra or {})}


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def busy_ports(ports: Sequence[int]) -> list[int]:
    return [port for port in ports if port_in_use(port)]


def stop_process(process: subprocess.Popen) -> None:
    """Stop a process started here and the process group it leads (`rasa` starts children)."""
    terminate(process, group=True)


def run_logged(command: list[str], log_name: str, cwd: Path, env: dict[str, str], timeout: float) -> float:
    """Run a command to completion, output to a log file; return its wall time in seconds."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(LOG_DIR / log_name, "ab") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        finally:
            stop_process(process)
    if code != 0:
        raise RuntimeError(f"{' '.join(command[:3])}… exited with code {code} (see {LOG_DIR / log_name})")
    return time.perf_counter() - started


def stock_model_exists() -> bool:
    return any((STOCK_DIR / "models").glob("*.tar.gz"))


def ensure_stock_bot() -> float | None:
    """Create and train the stock moodbot once; return the seconds it took, None when it already existed."""
    if stock_model_exists():
        return None
    STOCK_DIR.mkdir(parents=True, exist_ok=True)  # `rasa init --no-prompt` refuses a missing folder
    seconds = run_logged([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
                         "stock_init.log", ROOT, environment(), INIT_TIMEOUT)
    if not stock_model_exists():
        raise RuntimeError(f"`rasa init` left no model in {STOCK_DIR / 'models'}")
    return seconds


def first_reply_seconds(rasa_url: str, message: str, started: float) -> float:
    """Send one message; return the seconds since ``started`` (perf_counter) once a non-empty reply arrives."""
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": f"bench-cold-{os.getpid()}-{time.time_ns()}", "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    # The URL is built by this script from a 127.0.0.1 address (http only): bandit's B310 does not apply.
    with urllib.request.urlopen(request, timeout=FIRST_REPLY_TIMEOUT) as response:  # nosec B310
        reply = json.loads(response.read())
    if not reply_text(reply).strip():
        raise RuntimeError(f"empty first reply to {message!r} from {rasa_url}")
    return time.perf_counter() - started


@contextmanager
def stock_bot(startup: dict[str, Any]) -> Iterator[subprocess.Popen]:
    """Run the stock bot (``rasa run --enable-api``); fill ``startup`` with its start-up times; yield the process."""
    url = STOCK_URL
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    command = [str(VENV_BIN / "rasa"), "run", "--enable-api", "-p", str(STOCK_PORT)]
    with open(LOG_DIR / "stock_rasa.log", "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=STOCK_DIR, env=environment(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_for(f"{url}/status", START_TIMEOUT, process)
            startup["ready_s"] = time.perf_counter() - started
            startup["first_reply_s"] = first_reply_seconds(url, "hello", started)
            yield process
        finally:
            stop_process(process)


def load_database(env: dict[str, str]) -> float:
    """Create and fill the project database named in ``env`` (``python -m bot.store.loader``); return seconds."""
    return run_logged([sys.executable, "-m", "bot.store.loader"], "loader.log", ROOT, environment(env), LOADER_TIMEOUT)


def stack_env(data_dir: Path) -> dict[str, str]:
    return {
        **QUIET_ENV,
        "DATABASE_URL": f"sqlite:///{data_dir / 'alliance.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{data_dir / 'tracker.db'}",
        "EVENT_STORE_URL": f"sqlite:///{data_dir / 'events.db'}",
    }


def make_stack(ports: tuple[int, int, int], data_dir: Path, model: Path) -> Stack:
    rasa_port, action_port, web_port = ports
    return Stack(rasa_port=rasa_port, action_port=action_port, web_port=web_port, model=model, run_dir=data_dir,
                 env=stack_env(data_dir), log_dir=LOG_DIR, rasa_start_timeout=START_TIMEOUT)


@contextmanager
def our_stack(model: Path, startup: dict[str, Any], ports: tuple[int, int, int] = OUR_PORTS) -> Iterator[Stack]:
    """Our three processes on ``ports`` with fresh databases; yield the started stack.

    ``startup`` receives the seconds of the database load, until ready, and until the first reply.
    """
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as folder:
        data_dir = Path(folder)
        startup["loader_s"] = load_database(stack_env(data_dir))
        stack = make_stack(ports, data_dir, model)
        started = time.perf_counter()
        try:
            stack.start()
            startup["ready_s"] = time.perf_counter() - started
            startup["first_reply_s"] = first_reply_seconds(stack.rasa_url, "bonjour", started)
            yield stack
        finally:
            stack.stop()


def measure_cold_start(model: Path) -> dict[str, float]:
    """Seconds from Stack.start (fresh ports and databases) to the stack ready and to the first reply."""
    figures: dict[str, float] = {}
    with our_stack(model, figures, COLD_PORTS):
        pass
    return figures


def measure_training() -> float:
    """Wall time (s) of a forced ``rasa train`` of our assistant, as ``make train`` runs it (through the launcher),
    into a throw-away folder and cache."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as folder:
        command = [str(VENV_BIN / "python"), "-m", "bot.runtime.rasa_launcher", "train", "--config", "config.yml",
                   "--domain", "domain.yml", "--data", "data/rasa", "--out", folder, "--force"]
        env = environment({"RASA_CACHE_DIRECTORY": str(Path(folder) / "cache")})
        return run_logged(command, "train.log", ROOT, env, TRAIN_TIMEOUT)
