"""Load benchmark of the production topology, against one Rasa server and a stock ``rasa init`` bot, in one run.

``.venv/bin/python -m bench.production [--users 50] [--duration 60]`` (from the repository root) measures,
one after the other on this machine:

1. the production topology (bot/runtime/production.py) with 2 Rasa servers: nginx → web app → nginx's balancer →
   Rasa servers, PostgreSQL tracker store and project database, Redis lock store;
2. the same topology with 1 Rasa server;
3. the stock ``rasa init`` bot (bench/run.py creates it once in .cache/stock_bot), straight on its REST
   channel, as the reference.

Each phase: a warm-up (one conversation for 4 users), a wait until the processes are idle (the action
server builds its search indexes in the background after its first call), then N simulated users at
once, each doing whole conversations until ``duration`` has passed
(ours: « bonjour », « /start_diagnostic », the 13 answers by button payloads and « C'est bon » after the recap, a new conversation id each
time; stock: bench/run.py's 15-turn moodbot script). It prints turns/s, per-turn
p50/p95 latency and errors for each, the ratios 2 servers / 1 server and 2 servers / stock (target ≥ 1.3
each), and writes the same figures as JSON to ``bench/results/production-<UTC>.json``.

All the load comes from one address (127.0.0.1), so nginx's per-address rate limit on /webhooks/ is raised
for the benchmark (``RATE_LIMIT_PER_SECOND``, see bot/runtime/production.py); the output says so. Throw-away
PostgreSQL databases are created and dropped, the lock keys go to Redis db 3, every process is stopped on
the way out, and every wait is bounded. Ports: nginx 26180/26181, Rasa 26005…, actions 26055, web 26100,
stock bot 26105 (none of the tests' or bench/run.py's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import aiohttp

from bench.load import (
    LOAD_TAIL,
    PHASE_FAILURES,
    RESULT_MARKER,
    Bot,
    Sample,
    converse,
    new_session,
    our_script,
    stock_script,
    summary,
)
from bench.processes import (
    RESULTS_DIR,
    START_TIMEOUT,
    STOCK_DIR,
    VENV_BIN,
    busy_ports,
    ensure_stock_bot,
    environment,
    stop_process,
)
from bench.report import cpu_model, fmt, loadavg, write_json
from bench.usage import cpu_ms_per_turn, cpu_snapshot
from bot.runtime.processes import wait_for
from bot.runtime.production import Production

LOG_DIR = RESULTS_DIR / "logs"
PUBLIC_PORT, INTERNAL_PORT = 26180, 26181
FIRST_RASA_PORT, ACTION_PORT, WEB_PORT = 26005, 26055, 26100
STOCK_PORT = 26105
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
LOCK_STORE_URL = "redis://127.0.0.1:6379/3"
BENCH_RATE_LIMIT = 100_000  # requests/s per address: the whole load comes from 127.0.0.1
WARMUP_USERS = 4
# After the warm-up, the load starts once the processes use less than IDLE_CORES of CPU over SETTLE_INTERVAL_S.
IDLE_CORES = 0.05
SETTLE_INTERVAL_S = 1.0
SETTLE_TIMEOUT_S = 60.0
TARGET_RATIO = 1.3
SEED = 20240601


# --- Load -----------------------------------------------------------------------------------


async def simulate_user(session: aiohttp.ClientSession, bot: Bot, prefix: str, deadline: float,
                        sample: Sample, max_conversations: int) -> None:
    """Whole conversations, each with a new conversation id, until ``deadline`` (at least one)."""
    rng = random.Random(f"{SEED}-{prefix}")
    for index in range(max_conversations):
        if index and time.monotonic() >= deadline:
            return
        await converse(session, bot, f"{prefix}-c{index}", bot.script(rng, 0), sample)


async def run_load(bot: Bot, prefix: str, users: int, duration: float, max_conversations: int) -> tuple[Sample, float]:
    sample = Sample()
    deadline = time.monotonic() + duration
    async with new_session(users) as session:
        started = time.perf_counter()
        tasks = [simulate_user(session, bot, f"{prefix}-u{user}", deadline, sample, max_conversations)
                 for user in range(users)]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + LOAD_TAIL)
        except asyncio.TimeoutError:
            sample.error(f"{bot.key}: the users did not finish within {duration + LOAD_TAIL:.0f} s")
        elapsed = time.perf_counter() - started
    return sample, elapsed


def wait_until_idle(pids: dict[str, int]) -> float:
    """Seconds spent waiting for the processes to finish their start-up work (at most SETTLE_TIMEOUT_S).

    The warm-up's first action call makes the action server build its search indexes in a background
    thread (spaCy word vectors, several seconds of CPU holding its GIL). That is start-up work, not load:
    measuring during it would charge it to whichever phase it overlaps.
    """
    started = time.monotonic()
    previous = cpu_snapshot(pids)
    while time.monotonic() - started < SETTLE_TIMEOUT_S:
        time.sleep(SETTLE_INTERVAL_S)
        current = cpu_snapshot(pids)
        busy = sum(current[name] - previous[name] for name in current) / SETTLE_INTERVAL_S
        if busy < IDLE_CORES:
            break
        previous = current
    return time.monotonic() - started


def measure(bot: Bot, run_id: str, users: int, duration: float) -> dict[str, Any]:
    """A short warm-up (one conversation for a few users), start-up work finished, then the load."""
    asyncio.run(run_load(bot, f"bench-{run_id}-{bot.key}-warmup", WARMUP_USERS, 0, 1))
    settled_s = wait_until_idle(bot.pids)
    before = cpu_snapshot(bot.pids)
    sample, elapsed = asyncio.run(run_load(bot, f"bench-{run_id}-{bot.key}-load", users, duration, 10_000))
    figures = summary(sample, elapsed)
    turns = len(sample.latencies_ms)
    figures["cpu_ms_per_turn"] = cpu_ms_per_turn(before, cpu_snapshot(bot.pids), turns)
    figures["settled_after_warmup_s"] = settled_s
    return figures


# --- Bots -----------------------------------------------------------------------------------


@contextmanager
def production(servers: int, run_id: str, startup: dict[str, Any]) -> Iterator[Production]:
    running = Production(
        rasa_servers=servers, public_port=PUBLIC_PORT, internal_port=INTERNAL_PORT, first_rasa_port=FIRST_RASA_PORT,
        action_port=ACTION_PORT, web_port=WEB_PORT, run_dir=LOG_DIR / f"production-{servers}", public_host="127.0.0.1",
        env={
            "DATABASE_URL": f"{POSTGRES}/alliance_bench_{run_id}",
            "TRACKER_STORE_URL": f"{POSTGRES}/alliance_bench_{run_id}_tracker",
            "LOCK_STORE_URL": LOCK_STORE_URL,
            "RATE_LIMIT_PER_SECOND": str(BENCH_RATE_LIMIT),
            "RATE_LIMIT_BURST": str(BENCH_RATE_LIMIT),
            # The web app's own per-address limit (bot/web/app.py), raised for the same reason.
            "RATE_LIMIT_ADDRESS": f"{BENCH_RATE_LIMIT}/1",
            "WIDGET_ORIGINS": "*",
        },
    )
    started = time.perf_counter()
    running.start()
    startup["ready_s"] = time.perf_counter() - started
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def stock_bot(startup: dict[str, Any]) -> Iterator[subprocess.Popen]:
    """The stock moodbot (``rasa run``) on this benchmark's own port."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / "production-stock_rasa.log", "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "--enable-api", "-p", str(STOCK_PORT)], cwd=STOCK_DIR,
                                   env=environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(f"http://127.0.0.1:{STOCK_PORT}/status", START_TIMEOUT, process)
            startup["ready_s"] = time.perf_counter() - started
            yield process
        finally:
            stop_process(process)


def drop_databases(run_id: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{POSTGRES}/postgres", future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in (f"alliance_bench_{run_id}", f"alliance_bench_{run_id}_tracker"):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- The run --------------------------------------------------------------------------------


def ratio(numerator: dict[str, Any] | None, denominator: dict[str, Any] | None) -> float | None:
    top = (numerator or {}).get("turns_per_s")
    bottom = (denominator or {}).get("turns_per_s")
    return top / bottom if top and bottom else None


def run(users: int, duration: float) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    report: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "stamp": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "loadavg_start": loadavg(),
        "options": {"users": users, "duration_s": duration},
        "rate_limit_per_second": BENCH_RATE_LIMIT,
        "phases": {},
        "startup": {},
        "problems": [],
    }
    busy = busy_ports([PUBLIC_PORT, INTERNAL_PORT, FIRST_RASA_PORT, FIRST_RASA_PORT + 1, ACTION_PORT, WEB_PORT,
                       STOCK_PORT])
    if busy:
        report["problems"].append(f"ports already in use: {busy} (another benchmark running?)")
        return report
    try:
        for servers in (2, 1):
            key = f"production_{servers}"
            startup: dict[str, Any] = {}
            try:
                with production(servers, run_id, startup) as running:
                    pids = {name: process.pid for name, process in running.processes.items()}
                    bot = Bot(key, running.public_url, our_script, RESULT_MARKER, pids=pids)
                    report["phases"][key] = measure(bot, run_id, users, duration)
            except PHASE_FAILURES as exc:
                report["problems"].append(f"{key}: {type(exc).__name__}: {exc}")
            report["startup"][key] = startup
    finally:
        drop_databases(run_id)
    try:
        ensure_stock_bot()
        startup = {}
        with stock_bot(startup) as process:
            bot = Bot("stock", f"http://127.0.0.1:{STOCK_PORT}", stock_script, pids={"rasa": process.pid})
            report["phases"]["stock"] = measure(bot, run_id, users, duration)
        report["startup"]["stock"] = startup
    except PHASE_FAILURES as exc:
        report["problems"].append(f"stock: {type(exc).__name__}: {exc}")
    phases = report["phases"]
    report["ratios"] = {
        "production_2_over_1": ratio(phases.get("production_2"), phases.get("production_1")),
        "production_2_over_stock": ratio(phases.get("production_2"), phases.get("stock")),
        "target": TARGET_RATIO,
    }
    for key, figures in phases.items():
        if figures.get("errors"):
            report["problems"].append(f"{key}: {figures['errors']} error(s), e.g. {figures['error_examples'][:3]}")
    report["loadavg_end"] = loadavg()
    report["ok"] = not report["problems"]
    return report


def markdown(report: dict[str, Any]) -> str:
    options = report["options"]
    lines = [
        f"## Production benchmark {report['date']}",
        "",
        (f"nproc {report['nproc']} · CPU {report['cpu_model']} · load average at start {report['loadavg_start']}"
        f" · at end {report.get('loadavg_end')} · {options['users']} concurrent users · {options['duration_s']:.0f} s"
        " per phase · whole conversations, a new conversation id each time"),
        "",
        (f"nginx's per-address rate limit was raised to {report['rate_limit_per_second']} requests/s for this run"
        " (RATE_LIMIT_PER_SECOND), and the web app's per-address limit too (RATE_LIMIT_ADDRESS): all the simulated"
         " users share one address."),
        "",
        "| Figure | Production, 2 Rasa servers | Production, 1 Rasa server | Stock `rasa init` bot |",
        "|---|---:|---:|---:|",
    ]
    phases = report["phases"]
    for name, label in (("turns_per_s", "turns/s"), ("p50_ms", "turn p50 (ms)"), ("p95_ms", "turn p95 (ms)"),
                        ("max_ms", "turn max (ms)"), ("turns", "turns"), ("conversations", "complete conversations"),
                        ("errors", "errors")):
        values = [fmt((phases.get(key) or {}).get(name)) for key in ("production_2", "production_1", "stock")]
        lines.append(f"| {label} | {' | '.join(values)} |")
    cpu = [(phases.get(key) or {}).get("cpu_ms_per_turn") or {} for key in ("production_2", "production_1", "stock")]
    lines.append(f"| CPU ms per turn, all processes | {' | '.join(fmt(sum(v for v in c.values() if v) or None) for c in cpu)} |")
    ready = [fmt((report["startup"].get(key) or {}).get("ready_s")) for key in ("production_2", "production_1", "stock")]
    lines.append(f"| start → ready (s) | {' | '.join(ready)} |")
    ratios = report.get("ratios") or {}
    lines += [
        "",
        ("The production turns go through nginx → web app → nginx's balancer → Rasa (+ action server, PostgreSQL,"
        " Redis); the stock bot's go straight to its REST channel (in-memory tracker store, no action server)."),
        "",
        "| Ratio of turns/s | Value | Target | Met? |",
        "|---|---:|---|---|",
    ]
    for key, label in (("production_2_over_1", "2 Rasa servers / 1 Rasa server"),
                       ("production_2_over_stock", "2 Rasa servers / stock bot")):
        value = ratios.get(key)
        met = "" if value is None else "met" if value >= TARGET_RATIO else "**not met**"
        lines.append(f"| {label} | {fmt(value)} | ≥ {TARGET_RATIO} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load benchmark: production topology (2 and 1 Rasa servers) "
                                                 "against a stock `rasa init` bot.")
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated users (default 50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of each load phase (default 60)")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 500:
        parser.error("--users must be between 1 and 500")
    if not 1 <= args.duration <= 3600:
        parser.error("--duration must be between 1 and 3600 seconds")
    report = run(args.users, args.duration)
    print(markdown(report))
    for problem in report["problems"]:
        print(f"- problem: {problem}")
    print(f"\nJSON: {write_json(report, 'production-' + report['stamp'])}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
