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
- the analytics consumer (``python -m bot.analytics.consumer``): every Rasa server publishes its
  events to RabbitMQ (Rasa's Pika broker, durable queue ``EVENT_QUEUE`` on ``RABBITMQ_URL``), and the
  consumer writes them into the event store (``EVENT_STORE_URL``, default the project database) for
  the owner's analytics (docs/analytics.md);
- nginx in the foreground (``daemon off``) with a configuration generated into the
  run directory (``.run/prod``): a public server on ``PROD_PORT`` (default 8080) in
  front of the web app, and an internal one on 127.0.0.1:``PROD_PORT + 1`` that
  balances ``/webhooks/`` across the Rasa servers.

Every process is supervised (:mod:`.supervisor`): one that crashes is started again with backoff
while the others keep serving, and the restart is logged to the standard error and to
``supervisor.log``. Every log goes to the run directory; Ctrl-C or SIGTERM stops everything.
``prepare`` and ``exec NAME`` are what the systemd units of ``deploy/systemd/`` run instead.
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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
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
    LOOPBACK,
    QUIET_ENV,
    RASA_TUNING_ENV,
    SERVICE_TUNING_ENV,
    VENV_BIN,
    accepts,
    actions_command,
    answers,
    cors_origins,
    password_environment,
    rasa_run_command,
    wait_for,
    web_command,
)
from bot.runtime.rasa_config import pika_event_broker_config, write_rasa_config
from bot.runtime.supervisor import ProcessSpec, Supervisor, log_to_stderr, run_until_stopped

PROD_RUN_DIR = RUN_DIR / "prod"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/alliance"
DEFAULT_TRACKER_STORE_URL = "postgresql://postgres@127.0.0.1:5432/alliance_tracker"
DEFAULT_LOCK_STORE_URL = "redis://127.0.0.1:6379/1"
DEFAULT_RABBITMQ_URL = "amqp://127.0.0.1:5672/"
DEFAULT_EVENT_QUEUE = "alliance_events"

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
    api_token: str = ""
    widget_origins: list[str] = field(init=False, default_factory=list)
    supervisor: Supervisor = field(init=False)

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
        # The raw events of the analytics: the project database is fine (the table is emptied as it is read).
        self.event_store_url = self.setting("EVENT_STORE_URL", self.database_url)
        self.rabbitmq_url = self.setting("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
        self.event_queue = self.setting("EVENT_QUEUE", DEFAULT_EVENT_QUEUE)
        self.rate_limit = int(self.setting("RATE_LIMIT_PER_SECOND", str(DEFAULT_RATE_LIMIT_PER_SECOND)))
        self.rate_burst = int(self.setting("RATE_LIMIT_BURST", str(max(DEFAULT_RATE_LIMIT_BURST, 2 * self.rate_limit))))
        if not self.api_token:
            self.api_token = self.setting("RASA_API_TOKEN", "") or secrets.token_urlsafe(24)
        self.widget_origins = production_widget_origins(self.setting("WIDGET_ORIGINS", ""),
                                                        self.setting("PUBLIC_URL", ""))
        self.supervisor = Supervisor(log_path=self.run_dir / "supervisor.log")

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
            "EVENT_STORE_URL": self.event_store_url,
            "RABBITMQ_URL": self.rabbitmq_url,
            "EVENT_QUEUE": self.event_queue,
            "RASA_API_TOKEN": self.api_token,
            "RASA_URL": self.balancer_url,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}/webhook",
            "WEB_PORT": str(self.web_port),
            "WIDGET_ORIGINS": ",".join(self.widget_origins),
        })
        environment.update(password_environment(self.tracker_store_url, self.lock_store_url, self.event_store_url,
                                                self.rabbitmq_url))
        # The web app stands behind one proxy (nginx), whose X-Forwarded-For it trusts.
        environment.setdefault("PROXIES_COUNT", "1")
        # Web apps (one here, more on several machines) count the relay's rate limits together.
        environment.setdefault("RATE_LIMIT_STORE_URL", self.lock_store_url)
        return environment

    # Processes ---------------------------------------------------------------------

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        """The current process of each name (a restarted one has a new pid)."""
        return self.supervisor.processes

    def _spec(self, name: str, command: list[str], ready: Callable[[], bool], *, timeout: float = SERVICE_TIMEOUT,
              wait_at_start: bool = True, client_addresses_in_output: bool = False) -> ProcessSpec:
        """A supervised process with its output in ``<name>.log``; output that may name a client's address goes
        through :func:`copy_without_client_addresses` first. Thread pools and malloc arenas are tuned as in
        ``make run`` (bot/runtime/processes.py; a variable set in the environment wins)."""
        tuning = RASA_TUNING_ENV if name.startswith("rasa") else SERVICE_TUNING_ENV
        env = {**tuning, **self.environment()}
        return ProcessSpec(name, command, env=env, cwd=REPO_ROOT, log_path=self.run_dir / f"{name}.log",
                           output_filter=copy_without_client_addresses if client_addresses_in_output else None,
                           ready=ready, start_timeout=timeout, wait_at_start=wait_at_start)

    def prepare(self) -> None:
        """Create the databases if missing and load the project database (``python -m bot.store.loader``)."""
        for url in (self.database_url, self.tracker_store_url, self.event_store_url):
            ensure_postgres_database(url)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "loader.log", "ab") as log:
            subprocess.run([str(VENV_BIN / "python"), "-m", "bot.store.loader"], cwd=REPO_ROOT, env=self.environment(),
                           stdout=log, stderr=subprocess.STDOUT, check=True, timeout=LOADER_TIMEOUT)

    def write_configs(self) -> tuple[Path, Path, Path]:
        """Rasa's endpoints.yml and credentials.yml, and nginx.conf (checked by ``nginx -t``), in the run directory."""
        endpoints, credentials = write_rasa_config(
            self.run_dir, f"http://127.0.0.1:{self.action_port}/webhook", self.tracker_store_url, self.lock_store_url,
            pika_event_broker_config(self.rabbitmq_url, self.event_queue),
        )
        nginx = self.run_dir / "nginx.conf"
        nginx.write_text(nginx_config(self.run_dir, self.public_port or 8080, self.internal_port or 8081,
                                      self.web_port, self.rasa_ports, self.rate_limit, self.rate_burst,
                                      self.public_host), encoding="utf-8")
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / "nginx-temp" / sub).mkdir(parents=True, exist_ok=True)
        if not NGINX.exists():
            raise RuntimeError(f"{NGINX} is missing: install Debian's nginx (`make run-prod` does)")
        test = subprocess.run([*self.nginx_command(), "-t", "-q"], check=False, capture_output=True, text=True,
                              timeout=30)
        if test.returncode != 0:
            raise RuntimeError(f"nginx refuses {nginx}: {without_client_address(test.stderr.strip())}")
        return endpoints, credentials, nginx

    def nginx_command(self) -> list[str]:
        # -e stderr: the errors nginx meets before it has read its configuration go the same way as the others.
        return [str(NGINX), "-p", str(self.run_dir), "-e", "stderr", "-c", str(self.run_dir / "nginx.conf")]

    def actions_spec(self) -> ProcessSpec:
        return self._spec("actions", actions_command(self.action_port),
                          partial(answers, f"http://127.0.0.1:{self.action_port}/health"))

    def rasa_spec(self, index: int) -> ProcessSpec:
        """Rasa server ``index`` (0 for rasa1, on the first Rasa port), which loads its model while the others start."""
        port = self.first_rasa_port + index
        # Without origins Rasa sends no CORS header at all: browsers reach it only through the web app's relay.
        command = rasa_run_command("bot.runtime.rasa_shared", self.model, self.api_token, self.run_dir / "endpoints.yml",
                                   self.run_dir / "credentials.yml", port, self.widget_origins)
        return self._spec(f"rasa{index + 1}", command,
                          partial(answers, f"http://127.0.0.1:{port}/status?token={self.api_token}"),
                          timeout=START_TIMEOUT, wait_at_start=False)

    def web_spec(self) -> ProcessSpec:
        return self._spec("web", web_command(), partial(answers, f"{self.web_url}/health"))

    def analytics_spec(self) -> ProcessSpec:
        """RabbitMQ's queue of Rasa events into the event store; it serves as soon as it runs (no port)."""
        return self._spec("analytics", [str(VENV_BIN / "python"), "-m", "bot.analytics.consumer"], lambda: True)

    def nginx_spec(self) -> ProcessSpec:
        # Ready when both its servers accept connections (its public /health depends on the web app).
        public, internal = self.public_port or 8080, self.internal_port or 8081
        host = LOOPBACK if self.public_host in (ALL_INTERFACES, LOOPBACK) else self.public_host
        return self._spec("nginx", self.nginx_command(), lambda: accepts(public, host) and accepts(internal),
                          client_addresses_in_output=True)

    def process_specs(self) -> list[ProcessSpec]:
        """Every supervised process, in start order (they stop in the reverse order: the entry point first).
        A new process of the topology is one more spec here; tests/production kills each one in turn."""
        return [self.actions_spec(), self.analytics_spec(),
                *[self.rasa_spec(index) for index in range(self.rasa_servers or 1)], self.web_spec(), self.nginx_spec()]

    def start_actions(self) -> None:
        self.supervisor.start(self.actions_spec())

    def start_rasa(self, index: int) -> None:
        """(Re)start one Rasa server and wait until it answers."""
        self.supervisor.start(self.rasa_spec(index))

    def start(self) -> Production:
        """Prepare the databases, then start every process (the Rasa servers load their model in parallel)."""
        try:
            self.prepare()
            self.write_configs()
            self.supervisor.start_all(self.process_specs())
            wait_for(f"{self.balancer_url}/webhooks/rest/", SERVICE_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to one process (e.g. ``kill -9`` a Rasa server); the supervisor starts it again. Its old pid."""
        return self.supervisor.kill(name, sig)

    def stop_process(self, name: str) -> None:
        """Stop one process for good (no restart) until it is started again."""
        self.supervisor.stop([name])

    def stop(self) -> None:
        """Stop everything, the entry point first."""
        self.supervisor.stop()

    def status(self) -> dict[str, Any]:
        return {name: self.supervisor.is_running(name) for name in self.supervisor.names}


# --- `python -m bot.runtime.production run | prepare | exec NAME` ---------------------------------


def run(model: Path) -> int:
    production = Production(model=model)
    started = time.monotonic()
    log_to_stderr()
    print(
        f"Starting: {production.rasa_servers} Rasa server(s) on {production.rasa_ports}, actions :{production.action_port},"
        f" web app :{production.web_port}, nginx :{production.public_port} (balancer 127.0.0.1:{production.internal_port});"
        f" database {redacted(production.database_url)}, tracker store {redacted(production.tracker_store_url)},"
        f" lock store {redacted(production.lock_store_url)}; widget allowed on"
        f" {', '.join(production.widget_origins) or 'no other site (set WIDGET_ORIGINS)'}; logs in {production.run_dir}",
        flush=True,
    )

    def ready() -> None:
        print(
            f"Ready in {time.monotonic() - started:.0f} s: {production.public_url}/ "
            f"(chat {production.public_url}/webhooks/rest/webhook, {production.rate_limit} requests/s per address). "
            f"A process that stops is started again (logged here and in {production.supervisor.log_path}); "
            "Ctrl-C stops everything.",
            flush=True,
        )

    return run_until_stopped(production.supervisor, production.start, ready)


def exec_command(name: str, production: Production) -> tuple[list[str], dict[str, str]]:
    """The command and environment of the process ``name`` of the topology (``rasa<N>``, ``actions``,
    ``analytics``, ``web``, ``nginx``), as the systemd units of deploy/systemd run it (``exec NAME``) after ``prepare``."""
    if not production.setting("RASA_API_TOKEN", ""):
        raise SystemExit("RASA_API_TOKEN must be set in .env: every process of the topology uses the same token")
    if name.startswith("rasa") and name[4:].isdigit() and int(name[4:]) >= 1:
        spec = production.rasa_spec(int(name[4:]) - 1)
    else:
        specs = {spec.name: spec for spec in production.process_specs()}
        if name not in specs:
            others = sorted(other for other in specs if not other.startswith("rasa"))
            raise SystemExit(f"unknown process {name!r}: one of rasa<N>, {', '.join(others)}")
        spec = specs[name]
    command = list(spec.command)
    if name == "nginx":  # its output through the filter that removes client addresses, to the journal
        command = [str(VENV_BIN / "python"), "-m", "bot.runtime.nginx", *command[1:]]
    return command, dict(spec.env or {})


def exec_process(name: str, model: Path) -> None:
    """Replace this process by the process ``name`` of the topology (see :func:`exec_command`)."""
    command, environment = exec_command(name, Production(model=model))
    os.chdir(REPO_ROOT)
    # B606: our own fixed command (the venv's Python, or nginx), no shell.
    os.execve(command[0], command, environment)  # nosec B606


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description="Run the production topology: N Rasa servers, actions, web app and nginx (settings from .env)."
    )
    parser.add_argument("command", choices=["run", "prepare", "exec"],
                        help="run: the whole topology, supervised; prepare: databases and configurations, then exit; "
                             "exec NAME: become one process of the topology (systemd units)")
    parser.add_argument("name", nargs="?", help="with exec: rasa1, rasa2…, actions, analytics, web or nginx")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    if shutil.which(str(NGINX)) is None:
        print(f"{NGINX} is missing: `make run-prod` installs Debian's nginx", file=sys.stderr)
        return 1
    if args.command == "prepare":
        production = Production(model=args.model)
        production.prepare()
        production.write_configs()
        print(f"Databases ready; configurations written to {production.run_dir}", flush=True)
        return 0
    if args.command == "exec":
        if not args.name:
            parser.error("exec needs the name of a process")
        exec_process(args.name, args.model)
    return run(args.model)


if __name__ == "__main__":
    raise SystemExit(main())
