"""Benchmark: do the owner's console pages answer within 300 ms with 10,000 diagnostics and 100,000 events?

``.venv/bin/python -m bench.console [--database sqlite|postgresql] [--diagnostics 10000] [--events 100000]
[--requests 20] [--port 28200]`` (from the repository root):

1. fills a throw-away database (a SQLite file, or a PostgreSQL database created on 127.0.0.1:5432 and
   dropped after) with ``diagnostics`` diagnostics and their analytics rows (about ``events`` question
   events, one inbox message in ten) spread over the last 90 days (tests/console_seed.py);
2. starts the web app alone on ``port`` with a console password, and logs in;
3. requests every console page and export ``requests`` times in a row, for the last 30 days (the default
   period) and for the whole 90 days, and reports p50 and max per page.

Prints a table and writes JSON to ``bench/results/console-<UTC timestamp>.json``. Only talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.engine import Engine

from bot.console.password import hash_password
from bot.diagnostic.questionnaire import load_questionnaire
from bot.runtime.processes import terminate, wait_for
from bot.settings import get_settings
from bot.store.db import build_engine
from bot.store.loader import load_questionnaire_into_db
from bot.store.tables import Base
from tests import console_seed
from tests.databases import throwaway_engine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LOGIN_PHRASE = "mot de passe du banc d'essai"
TARGET_MS = 300
PAGES = ("vue-ensemble", "entonnoir", "boite", "lacunes", "avis", "exports", "exports/vue-ensemble.csv",
         "exports/entonnoir.csv", "exports/nlu.yml")


@contextmanager
def database(kind: str, folder: Path) -> Iterator[tuple[Engine, str]]:
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'console-bench.db'}"
        engine = build_engine(url)
        try:
            yield engine, url
        finally:
            engine.dispose()
        return
    with throwaway_engine("postgresql", folder) as engine:
        yield engine, engine.url.render_as_string(hide_password=False)


def log_in(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/admin/connexion", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("no login form: is ADMIN_PASSWORD_HASH set for the web app?")
    reply = session.post(f"{base}/admin/connexion", data={"csrf": token.group(1), "password": LOGIN_PHRASE},
                         allow_redirects=False, timeout=30)
    if reply.status_code != 303:
        raise RuntimeError(f"login refused: HTTP {reply.status_code}")
    return session


def timed(session: requests.Session, url: str, count: int) -> dict[str, Any]:
    session.get(url, timeout=60)  # warm-up (templates, questionnaire, connections)
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        response = session.get(url, timeout=60)
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return {"p50_ms": round(statistics.median(latencies), 1), "max_ms": round(max(latencies), 1),
            "bytes": len(response.content)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--diagnostics", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--port", type=int, default=28200)
    args = parser.parse_args(argv)

    survey = load_questionnaire()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as scratch, \
            database(args.database, Path(scratch)) as (engine, url):
        Base.metadata.create_all(engine)
        load_questionnaire_into_db(engine, get_settings().questionnaire_path)  # the web app reads it from there
        start = time.perf_counter()
        console_seed.large(engine, survey, diagnostics=args.diagnostics, events=args.events)
        seeding_s = round(time.perf_counter() - start, 1)
        with engine.connect() as connection:
            counts = {table: connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()  # nosec B608
                      for table in ("diagnostics", "analytics_question_events", "analytics_conversations",
                                    "analytics_inbox")}
        env = {**os.environ, "DATABASE_URL": url, "WEB_PORT": str(args.port), "WEB_HOST": "127.0.0.1",
               "ADMIN_PASSWORD_HASH": hash_password(LOGIN_PHRASE)}
        web = subprocess.Popen([sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{args.port}"
        today = datetime.now(timezone.utc).date()
        periods = {"30 jours": "", "90 jours": f"?debut={(today - timedelta(days=90)).isoformat()}&fin={today}"}
        results: dict[str, dict[str, Any]] = {}
        try:
            wait_for(f"{base}/health", 60, web)
            session = log_in(base)
            for label, query in periods.items():
                for page in PAGES:
                    suffix = "" if page in ("boite", "exports/nlu.yml") else query
                    results[f"{page} ({label})"] = timed(session, f"{base}/admin/{page}{suffix}", args.requests)
        finally:
            terminate(web)

    slowest = max(result["max_ms"] for result in results.values())
    load = [round(value, 1) for value in os.getloadavg()]  # other work on the machine shows in the maxima
    print(f"{args.database}: {counts} (seeded in {seeding_s} s), {args.requests} requests per page")
    print(f"{'page':<40} {'p50 ms':>8} {'max ms':>8}")
    for name, result in results.items():
        print(f"{name:<40} {result['p50_ms']:>8} {result['max_ms']:>8}")
    print(f"slowest answer: {slowest} ms (target {TARGET_MS} ms); load average {load} on {os.cpu_count()} CPUs")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS / f"console-{args.database}-{stamp}.json"
    output.write_text(json.dumps({"database": args.database, "rows": counts, "seeding_s": seeding_s,
                                  "requests_per_page": args.requests, "pages": results, "target_ms": TARGET_MS,
                                  "max_ms": slowest, "load_average": load,
                                  "cpus": os.cpu_count()}, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written to {output.relative_to(ROOT)}")
    return 0 if slowest <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
