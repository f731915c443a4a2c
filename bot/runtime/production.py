"""Production mode on one machine: N Rasa servers behind nginx, PostgreSQL and Redis.

``python -m bot.runtime.production run`` (what ``make run-prod`` calls) reads the settings
from the environment and ``.env``, creates the PostgreSQL databases when they are
missing, loads the project database (``python -m bot.store.loader``) and starts:

- one action server (``ACTION_PORT``, default 5055);
- ``RASA_SERVERS`` Rasa servers (ports 5005, 5006, …), all with the same
  endpoints.yml: the PostgreSQL tracker store (``TRACKER_STORE_URL``) and the Redis
  lock store (``LOCK_STORE_URL``), so that any server can take any message of any
  conversation;
- the web app (``WEB_PORT``, default 8000), whose chat relay goes to nginx's
  internal balancer of the Rasa servers;
- nginx in the foreground (``daemon off``) with a configuration generated into the
  run directory (``.run/prod``): a public server on ``PROD_PORT`` (default 8080) in
  front of the web app, and an internal one on 127.0.0.1:``PROD_PORT + 1`` that
  balances ``/webhooks/`` across the Rasa servers.

Every log goes to the run directory; Ctrl-C or SIGTERM stops everything.
:class:`Production` is what the tests (tests/production) and the benchmark
(bench/production.py) start on their own ports and databases.

Each Rasa server is started by :mod:`bot.runtime.rasa_shared`: the launcher plus the two fixes that
several servers sharing PostgreSQL and Redis need.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dotenv import load_dotenv

from bot.paths import REPO_ROOT, RUN_DIR
from bot.runtime.nginx import (
    ALL_INTERFACES,
    DEFAULT_RATE_LIMIT_BURST,
    DEFAULT_RATE_LIMIT_PER_SECOND,
    NGINX,
    copy_without_client_addresses,
    nginx_config,
    without_client_address,
)
from bot.runtime.processes import (
    ACTIONS_LISTEN_ENV,
    DEFAULT_MODEL,
    QUIET_ENV,
    STOP_TIMEOUT,
    VENV_BIN,
    actions_command,
    cors_origins,
    password_environment,
    rasa_run_command,
    terminate,
    wait_for,
    web_command,
)
from bot.runtime.rasa_config import write_rasa_config

PROD_RUN_DIR = RUN_DIR / "prod"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/alliance"
DEFAULT_TRACKER_STORE_URL = "postgresql://postgres@127.0.0.1:5432/alliance_tracker"
DEFAULT_LOCK_STORE_URL = "redis://127.0.0.1:6379/1"

START_TIMEOUT = 240.0  # seconds for one Rasa server to answer /status (two start at once on 2 cores)
SERVICE_TIMEOUT = 60.0  # seconds for the action server, the web app, nginx
LOADER_TIMEOUT = 300.0


def _load_env() -> None:
    load_dotenv(REPO_ROOT / ".env", override=False)


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name) or os.environ.get(name) or default


def ensure_postgres_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` when it does not exist; True if it was created.

    Other URLs (SQLite) are left alone: SQLAlchemy and Rasa create their files.
    """
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        return False
    from sqlalchemy import create_engine, text

    name = parts.path.lstrip("/")
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first()
            if exists:
                return False
            escaped = name.replace('"', '""')
            connection.execute(text(f'CREATE DATABASE "{escaped}"'))
            return True
    finally:
        admin.dispose()


def production_widget_origins(configured: str, public_url: str) -> list[str]:
    """The sites allowed to embed the widget in production mode: WIDGET_ORIGINS when it is set (``*`` only if
    written there); otherwise none but the assistant's own address (PUBLIC_URL), never any site by default."""
    if configured.strip():
        return cors_origins(configured)
    parts = urlsplit(public_url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class Production:
    """The production topology on one machine (see the module docstring).

    Ports default to ``PROD_PORT`` (8080; internal balancer on PROD_PORT + 1), Rasa 5005…, actions 5055 and
    web app 8000; every setting can be given in ``env`` (which wins over the environment and .env).
    """

    rasa_servers: int | None = None
    public_port: int | None = None
    internal_port: int | None = None
    first_rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8000
    model: Path = DEFAULT_MODEL
    run_dir: Path = PROD_RUN_DIR
    env: Mapping[str, str] = field(default_factory=dict)
    public_host: str = field(default_factory=lambda: os.environ.get("PROD_HOST", ALL_INTERFACES))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    api_token: str = ""
    widget_origins: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        _load_env()
        self.env = dict(self.env)
        if self.rasa_servers is None:
            self.rasa_servers = int(self.setting("RASA_SERVERS", "2"))
        if self.rasa_servers < 1:
            raise ValueError("RASA_SERVERS must be at least 1")
        if self.public_port is None:
            self.public_port = int(self.setting("PROD_PORT", "8080"))
        if self.internal_port is None:
            self.internal_port = self.public_port + 1
        self.database_url = self.setting("DATABASE_URL", DEFAULT_DATABASE_URL)
        self.tracker_store_url = self.setting("TRACKER_STORE_URL", DEFAULT_TRACKER_STORE_URL)
        self.lock_store_url = self.setting("LOCK_STORE_URL", DEFAULT_LOCK_STORE_URL)
        self.rate_limit = int(self.setting("RATE_LIMIT_PER_SECOND", str(DEFAULT_RATE_LIMIT_PER_SECOND)))
        self.rate_burst = int(self.setting("RATE_LIMIT_BURST", str(max(DEFAULT_RATE_LIMIT_BURST, 2 * self.rate_limit))))
        if not self.api_token:
            self.api_token = self.setting("RASA_API_TOKEN", "") or secrets.token_urlsafe(24)
        self.widget_origins = production_widget_origins(self.setting("WIDGET_ORIGINS", ""),
                                                        self.setting("PUBLIC_URL", ""))

    # Settings and URLs -------------------------------------------------------------

    def setting(self, name: str, default: str) -> str:
        return _env(self.env, name, default)

    @property
    def rasa_ports(self) -> list[int]:
        return [self.first_rasa_port + index for index in range(self.rasa_servers or 1)]

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def balancer_url(self) -> str:
        """nginx's internal balancer of the Rasa servers (what the web app relays to)."""
        return f"http://127.0.0.1:{self.internal_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def environment(self) -> dict[str, str]:
        """What every process of the topology sees."""
        environment = {**QUIET_ENV, **os.environ, **self.env, **ACTIONS_LISTEN_ENV}
        environment.update({
            "DATABASE_URL": self.database_url,
            "TRACKER_STORE_URL": self.tracker_store_url,
            "LOCK_STORE_URL": self.lock_store_url,
            "RASA_API_TOKEN": self.api_token,
            "RASA_URL": self.balancer_url,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}/webhook",
            "WEB_PORT": str(self.web_port),
            "WIDGET_ORIGINS": ",".join(self.widget_origins),
        })
        environment.update(password_environment(self.tracker_store_url, self.lock_store_url))
        # The web app stands behind one proxy (nginx), whose X-Forwarded-For it trusts.
        environment.setdefault("PROXIES_COUNT", "1")
        # Web apps (one here, more on several machines) count the relay's rate limits together.
        environment.setdefault("RATE_LIMIT_STORE_URL", self.lock_store_url)
        return environment

    # Processes ---------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], *, client_addresses_in_output: bool = False) -> subprocess.Popen:
        """Start ``command`` with its output in ``<name>.log``; output that may name a client's address
        goes through :func:`copy_without_client_addresses` first."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.run_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=self.environment(),
                                       stdout=subprocess.PIPE if client_addresses_in_output else log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if client_addresses_in_output:
            threading.Thread(target=copy_without_client_addresses, args=(process.stdout, log_path),
                             name=f"{name}-log", daemon=True).start()
        self.processes[name] = process
        return process

    def prepare(self) -> None:
        """Create the databases if missing and load the project database (``python -m bot.store.loader``)."""
        for url in (self.database_url, self.tracker_store_url):
            ensure_postgres_database(url)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "loader.log", "ab") as log:
            subprocess.run([str(VENV_BIN / "python"), "-m", "bot.store.loader"], cwd=REPO_ROOT, env=self.environment(),
                           stdout=log, stderr=subprocess.STDOUT, check=True, timeout=LOADER_TIMEOUT)

    def write_configs(self) -> tuple[Path, Path, Path]:
        endpoints, credentials = write_rasa_config(
            self.run_dir, f"http://127.0.0.1:{self.action_port}/webhook", self.tracker_store_url, self.lock_store_url
        )
        nginx = self.run_dir / "nginx.conf"
        nginx.write_text(nginx_config(self.run_dir, self.public_port or 8080, self.internal_port or 8081,
                                      self.web_port, self.rasa_ports, self.rate_limit, self.rate_burst,
                                      self.public_host), encoding="utf-8")
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / "nginx-temp" / sub).mkdir(parents=True, exist_ok=True)
        return endpoints, credentials, nginx

    def start_actions(self) -> None:
        process = self._spawn("actions", actions_command(self.action_port))
        wait_for(f"http://127.0.0.1:{self.action_port}/health", SERVICE_TIMEOUT, process)

    def spawn_rasa(self, index: int) -> subprocess.Popen:
        # Without origins Rasa sends no CORS header at all: browsers reach it only through the web app's relay.
        return self._spawn(f"rasa{index + 1}", rasa_run_command(
            "bot.runtime.rasa_shared", self.model, self.api_token, self.run_dir / "endpoints.yml",
            self.run_dir / "credentials.yml", self.rasa_ports[index], self.widget_origins,
        ))

    def wait_rasa(self, index: int, timeout: float = START_TIMEOUT) -> None:
        wait_for(f"{self.rasa_url(index)}/status?token={self.api_token}", timeout, self.processes[f"rasa{index + 1}"])

    def start_rasa(self, index: int) -> None:
        """(Re)start one Rasa server and wait until it answers."""
        self.spawn_rasa(index)
        self.wait_rasa(index)

    def start_web(self) -> None:
        process = self._spawn("web", web_command())
        wait_for(f"{self.web_url}/health", SERVICE_TIMEOUT, process)

    def start_nginx(self) -> None:
        if not NGINX.exists():
            raise RuntimeError(f"{NGINX} is missing: install Debian's nginx (`make run-prod` does)")
        config = self.run_dir / "nginx.conf"
        # -e stderr: the errors nginx meets before it has read its configuration go the same way as the others.
        command = [str(NGINX), "-p", str(self.run_dir), "-e", "stderr", "-c", str(config)]
        test = subprocess.run([*command, "-t", "-q"], check=False, capture_output=True, text=True, timeout=30)
        if test.returncode != 0:
            raise RuntimeError(f"nginx refuses {config}: {without_client_address(test.stderr.strip())}")
        process = self._spawn("nginx", command, client_addresses_in_output=True)
        wait_for(f"{self.public_url}/health", SERVICE_TIMEOUT, process)

    def start(self) -> Production:
        """Prepare the databases, then start every process (the Rasa servers load their model in parallel)."""
        try:
            self.prepare()
            self.write_configs()
            self.start_actions()
            for index in range(self.rasa_servers or 1):
                self.spawn_rasa(index)
            self.start_web()
            self.start_nginx()
            with ThreadPoolExecutor(max_workers=self.rasa_servers) as pool:
                for future in [pool.submit(self.wait_rasa, index) for index in range(self.rasa_servers or 1)]:
                    future.result()
            wait_for(f"{self.balancer_url}/webhooks/rest/", SERVICE_TIMEOUT, self.processes["nginx"])
        except BaseException:
            self.stop()
            raise
        return self

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to one process (e.g. ``kill -9`` a Rasa server) and reap it."""
        process = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(sig)
        process.wait(timeout=STOP_TIMEOUT)

    def stop_process(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            terminate(process)

    def stop(self) -> None:
        """Stop everything, the entry point first."""
        order = ["nginx", "web", *[f"rasa{i + 1}" for i in range(self.rasa_servers or 1)], "actions"]
        for name in [*order, *[name for name in self.processes if name not in order]]:
            self.stop_process(name)

    def status(self) -> dict[str, Any]:
        return {name: process.poll() is None for name, process in self.processes.items()}


# --- `python -m bot.runtime.production run` ---------------------------------------------------


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run(model: Path) -> int:
    production = Production(model=model)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    print(
        f"Starting: {production.rasa_servers} Rasa server(s) on {production.rasa_ports}, actions :{production.action_port},"
        f" web app :{production.web_port}, nginx :{production.public_port} (balancer 127.0.0.1:{production.internal_port});"
        f" database {redacted(production.database_url)}, tracker store {redacted(production.tracker_store_url)},"
        f" lock store {redacted(production.lock_store_url)}; widget allowed on"
        f" {', '.join(production.widget_origins) or 'no other site (set WIDGET_ORIGINS)'}; logs in {production.run_dir}",
        flush=True,
    )
    try:
        production.start()
        print(
            f"Ready in {time.monotonic() - started:.0f} s: {production.public_url}/ "
            f"(chat {production.public_url}/webhooks/rest/webhook, {production.rate_limit} requests/s per address). "
            "Ctrl-C stops everything.",
            flush=True,
        )
        while all(process.poll() is None for process in production.processes.values()):
            time.sleep(1)
        stopped = [name for name, process in production.processes.items() if process.poll() is not None]
        print(f"{', '.join(stopped)} stopped; stopping the others (logs in {production.run_dir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        production.stop()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description="Run the production topology: N Rasa servers, actions, web app and nginx (settings from .env)."
    )
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    if shutil.which(str(NGINX)) is None:
        print(f"{NGINX} is missing: `make run-prod` installs Debian's nginx", file=sys.stderr)
        return 1
    return run(args.model)


if __name__ == "__main__":
    raise SystemExit(main())
