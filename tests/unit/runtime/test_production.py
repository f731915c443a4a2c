"""Tests of production mode's plain helpers (bot/runtime/production.py), without starting any server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from bot.paths import REPO_ROOT
from bot.runtime import rasa_config
from bot.runtime.nginx import copy_without_client_addresses, nginx_config, without_client_address
from bot.runtime.processes import rasa_run_command
from bot.runtime.production import Production, exec_command, production_widget_origins, redacted

# Lines as Debian's nginx 1.22 writes them (a refusal by limit_req, an upstream failure), IPv4 and IPv6.
LIMITED = ('2026/12/02 21:03:11 [error] 4242#4242: *17 limiting requests, excess: 20.980 by zone "chat", '
           'client: 203.0.113.7, server: , request: "POST /webhooks/rest/webhook HTTP/1.1", host: "a.example"')
REFUSED = ('2026/12/02 21:03:12 [error] 4242#4242: *18 connect() failed (111: Connection refused) while '
           'connecting to upstream, client: 2001:db8::1, server: , request: "POST /webhooks/rest/webhook HTTP/1.1",'
           ' upstream: "http://127.0.0.1:5005/webhooks/rest/webhook", host: "127.0.0.1:8081"')


@pytest.mark.parametrize(("line", "address"), [(LIMITED, "203.0.113.7"), (REFUSED, "2001:db8::1")])
def test_nginx_lines_lose_the_client_address_and_keep_the_rest(line: str, address: str) -> None:
    assert without_client_address(line) == line.replace(f"client: {address},", "client: -,")


def test_a_line_without_client_is_kept_as_it_is() -> None:
    line = "2026/12/02 21:00:00 [notice] 4242#4242: signal process started"
    assert without_client_address(line) == line


def test_nginx_output_is_copied_line_by_line_without_addresses(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    log = tmp_path / "nginx.log"
    copier = threading.Thread(target=copy_without_client_addresses, args=(os.fdopen(read_end, "rb"), log))
    copier.start()
    with os.fdopen(write_end, "wb") as nginx_output:
        nginx_output.write(f"{LIMITED}\n{REFUSED}\n".encode())
    copier.join(timeout=5)
    assert not copier.is_alive()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines == [without_client_address(LIMITED), without_client_address(REFUSED)]


def test_the_nginx_configuration_keeps_no_access_log_and_balances_every_server(tmp_path: Path) -> None:
    config = nginx_config(tmp_path, 8080, 8081, 8000, [5005, 5006, 5007])
    assert "access_log off;" in config
    assert "error_log stderr warn;" in config  # copied without addresses, never written by nginx itself
    for port in (5005, 5006, 5007):
        assert f"server 127.0.0.1:{port} max_fails=1" in config
    assert "listen 127.0.0.1:8081;" in config and "listen 0.0.0.0:8080;" in config
    assert "client_max_body_size 16k;" in config


def test_widget_origins_in_production_are_none_unless_configured() -> None:
    assert production_widget_origins("", "") == []
    assert production_widget_origins("", "https://assistant.example.org/chemin/") == ["https://assistant.example.org"]
    assert production_widget_origins("https://a.example, https://b.example", "") == [
        "https://a.example", "https://b.example"]
    assert production_widget_origins("*", "https://assistant.example.org") == ["*"]


def test_the_production_environment_hands_the_origins_to_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WIDGET_ORIGINS", raising=False)
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    closed = Production(env={"RASA_API_TOKEN": "t"})
    assert closed.widget_origins == [] and closed.environment()["WIDGET_ORIGINS"] == ""
    opened = Production(env={"RASA_API_TOKEN": "t", "WIDGET_ORIGINS": "https://a.example"})
    assert opened.environment()["WIDGET_ORIGINS"] == "https://a.example"


def test_passwords_are_left_out_of_messages() -> None:
    assert redacted("postgresql://alice:s3cret@db:5432/alliance") == "postgresql://alice:***@db:5432/alliance"
    assert redacted("redis://127.0.0.1:6379/1") == "redis://127.0.0.1:6379/1"


# The token that made a CI run's Rasa exit with code 2 ("argument -t/--auth-token: expected one argument").
@pytest.mark.parametrize("token", ["-xhE7c0KrWw5TBslmhElYdQ-gK9cWhbE", "plain-token"])
@pytest.mark.parametrize("cors", [[], ["https://a.example"]])
def test_rasa_reads_every_argument_of_its_command(token: str, cors: list[str], tmp_path: Path) -> None:
    from rasa.__main__ import create_argument_parser

    command = rasa_run_command("bot.runtime.rasa_shared", tmp_path / "model.tar.gz", token, tmp_path / "endpoints.yml",
                               tmp_path / "credentials.yml", 5006, cors)
    assert command[1:4] == ["-m", "bot.runtime.rasa_shared", "run"]
    args = create_argument_parser().parse_args(command[command.index("run"):])
    assert args.auth_token == token and args.enable_api
    assert (args.interface, args.port) == ("127.0.0.1", 5006)
    assert args.cors == (cors or None)
    assert args.endpoints == str(tmp_path / "endpoints.yml")


def test_the_topology_is_a_list_of_supervised_processes_stopped_entry_point_first(tmp_path: Path) -> None:
    production = Production(rasa_servers=3, run_dir=tmp_path, env={"RASA_API_TOKEN": "t"})
    specs = production.process_specs()
    assert [spec.name for spec in specs] == ["actions", "analytics", "rasa1", "rasa2", "rasa3", "web", "nginx"]
    # The Rasa servers load their model together while the others start; everything logs into the run directory.
    assert [spec.name for spec in specs if not spec.wait_at_start] == ["rasa1", "rasa2", "rasa3"]
    assert all(spec.log_path == tmp_path / f"{spec.name}.log" and spec.ready is not None for spec in specs)
    nginx = specs[-1]
    assert nginx.output_filter is copy_without_client_addresses


def test_systemd_units_run_each_process_with_the_topology_s_command_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    production = Production(rasa_servers=2, run_dir=tmp_path, env={"RASA_API_TOKEN": "t", "WIDGET_ORIGINS": ""})
    command, environment = exec_command("rasa3", production)  # a third machine-wide instance: its own port
    assert command[1:4] == ["-m", "bot.runtime.rasa_shared", "run"] and command[command.index("--port") + 1] == "5007"
    assert "--auth-token=t" in command and environment["RASA_API_TOKEN"] == "t"
    command, environment = exec_command("actions", production)
    assert command[1:3] == ["-m", "rasa_sdk"] and environment["SANIC_HOST"] == "127.0.0.1"
    command, _ = exec_command("nginx", production)
    assert command[1:3] == ["-m", "bot.runtime.nginx"] and command[-1] == str(tmp_path / "nginx.conf")
    with pytest.raises(SystemExit, match="unknown process 'rasa'"):
        exec_command("rasa", production)
    with pytest.raises(SystemExit, match="RASA_API_TOKEN must be set"):
        exec_command("web", Production(run_dir=tmp_path, env={"RASA_API_TOKEN": ""}))


FAKE_NGINX = """
import os, signal, sys, time
print('[error] limiting requests, client: 203.0.113.7, server: , request: "POST /webhooks/rest/webhook"', flush=True)
signal.signal(signal.SIGHUP, lambda *_: print('[notice] reconfiguring', flush=True))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print('ready', flush=True)
while True:
    time.sleep(0.05)
"""


def test_nginx_under_systemd_logs_without_addresses_and_gets_the_signals(tmp_path: Path) -> None:
    """``python -m bot.runtime.nginx``, with a fake nginx: output filtered, SIGHUP (reload) and SIGTERM passed on."""
    fake = tmp_path / "nginx.py"
    fake.write_text(FAKE_NGINX, encoding="utf-8")
    code = (f"import sys; from pathlib import Path; from bot.runtime.nginx import run_filtered; "
            f"sys.exit(run_filtered([{str(fake)!r}], sys.stdout.buffer, nginx=Path(sys.executable)))")
    wrapper = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=REPO_ROOT)
    assert wrapper.stdout is not None
    lines = [wrapper.stdout.readline().decode(), wrapper.stdout.readline().decode()]
    wrapper.send_signal(signal.SIGHUP)
    lines.append(wrapper.stdout.readline().decode())
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=10) == 0
    assert "client: -," in lines[0] and "203.0.113.7" not in lines[0]
    assert lines[1:] == ["ready\n", "[notice] reconfiguring\n"]


def test_the_rasa_servers_publish_their_events_to_rabbitmq_without_the_password_in_the_file(tmp_path: Path) -> None:
    production = Production(run_dir=tmp_path, env={"RASA_API_TOKEN": "t", "RABBITMQ_URL": "amqp://alliance:s3cret@mq:5673/",
                                                   "EVENT_QUEUE": "events_q"})
    endpoints = rasa_config.write_rasa_config(tmp_path, "http://a", production.tracker_store_url,
                                              production.lock_store_url,
                                              rasa_config.pika_event_broker_config(production.rabbitmq_url,
                                                                                   production.event_queue))[0]
    config = yaml.safe_load(endpoints.read_text(encoding="utf-8"))["event_broker"]
    assert config == {"type": "pika", "url": "mq", "port": 5673, "username": "alliance",
                      "password": "${RABBITMQ_PASSWORD}", "queues": ["events_q"]}
    assert "s3cret" not in endpoints.read_text(encoding="utf-8")
    assert production.environment()["RABBITMQ_PASSWORD"] == "s3cret"
    consumer = {spec.name: spec for spec in production.process_specs()}["analytics"]
    assert list(consumer.command[1:]) == ["-m", "bot.analytics.consumer"]


def test_make_run_writes_rasa_s_sql_event_broker(tmp_path: Path) -> None:
    sqlite = yaml.safe_load(rasa_config.sql_event_broker_config(f"sqlite:///{tmp_path}/events.db"))["event_broker"]
    assert sqlite == {"type": rasa_config.EVENT_BROKER_CLASS, "dialect": "sqlite", "db": f"{tmp_path}/events.db"}
    postgres = yaml.safe_load(rasa_config.sql_event_broker_config("postgresql://u:pw@db:5433/alliance"))["event_broker"]
    assert postgres == {"type": rasa_config.EVENT_BROKER_CLASS, "dialect": "postgresql", "url": "db", "port": 5433, "db": "alliance",
                        "username": "u", "password": "${EVENT_STORE_PASSWORD}"}
