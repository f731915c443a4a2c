"""Benchmark: does the workshop dashboard stay responsive with 200 participants?

``.venv/bin/python -m bench.workshop_dashboard [--participants 200] [--viewers 20] [--duration 20]
[--database-url URL]`` (from the repository root):

1. fills a throw-away database (SQLite by default) with one workshop whose
   participants all joined and finished a diagnostic (real answers, scored by
   bot.diagnostic.scoring), plus as many diagnostics of people outside the workshop;
2. starts the web app alone on port 28100 against it;
3. measures ``GET /api/ateliers/<token>`` (what the dashboard polls every 3 s):
   one client in a row, then ``viewers`` clients polling at once, while a writer
   thread keeps finishing new diagnostics in the workshop (the live case);
4. measures the dashboard page and the CSV export once each.

Prints a table and writes JSON to ``bench/results/workshop-<UTC timestamp>.json``.
Only talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

from bot import workshops
from bot.diagnostic.questionnaire import Questionnaire, load_questionnaire
from bot.diagnostic.scoring import compute_result
from bot.runtime.processes import wait_for
from bot.settings import get_settings
from bot.store import diagnostics
from bot.store.db import build_engine
from bot.store.loader import load_questionnaire_into_db
from bot.store.tables import Base

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = 28100


def finish_one(engine: Any, survey: Questionnaire, conversation: str, chooser: random.Random,
               workshop_id: int | None) -> None:
    answers = {question.id: chooser.choice(question.option_ids) for question in survey.questions}
    if workshop_id is not None:
        workshops.join(workshop_id, conversation, engine)
    diagnostics.record_progress(conversation, {}, survey.question_ids[0], engine)
    diagnostics.record_result(conversation, answers, compute_result(survey, answers).to_dict(), engine)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def timed_get(session: aiohttp.ClientSession, url: str) -> float:
    start = time.perf_counter()
    async with session.get(url) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - start) * 1000


async def sequential(url: str, count: int) -> list[float]:
    async with aiohttp.ClientSession() as session:
        return [await timed_get(session, url) for _ in range(count)]


async def polling(url: str, viewers: int, duration: float) -> tuple[list[float], int]:
    """``viewers`` clients each requesting again as soon as they get an answer, for ``duration`` seconds."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def viewer(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                latencies.append(await timed_get(session, url))
            except (aiohttp.ClientError, RuntimeError):
                errors += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=viewers)) as session:
        await asyncio.gather(*(viewer(session) for _ in range(viewers)))
    return latencies, errors


def summary(latencies: list[float]) -> dict[str, float]:
    return {"requests": len(latencies), "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1), "max_ms": round(max(latencies), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--database-url", default=None, help="default: a throw-away SQLite file")
    args = parser.parse_args(argv)

    survey = load_questionnaire()
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as scratch:
        database_url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        engine = build_engine(database_url)
        Base.metadata.create_all(engine)
        load_questionnaire_into_db(engine, get_settings().questionnaire_path)  # the web app reads it from there
        chooser = random.Random(2026)
        created = workshops.create_workshop("Banc d'essai : 200 participants", hours=4, engine=engine)
        start = time.perf_counter()
        for number in range(args.participants):
            finish_one(engine, survey, f"bench-in-{number}", chooser, created.id)
            finish_one(engine, survey, f"bench-out-{number}", chooser, None)
        seeding_s = time.perf_counter() - start

        env = {**os.environ, "DATABASE_URL": database_url, "WEB_PORT": str(PORT), "WEB_HOST": "127.0.0.1"}
        web = subprocess.Popen([sys.executable, "-m", "bot.web"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        stop_writer = threading.Event()
        written = 0

        def writer() -> None:
            # The live case: people keep finishing while the dashboard is polled (one every 0.2 s).
            nonlocal written
            local = random.Random(7)
            while not stop_writer.wait(0.2):
                finish_one(engine, survey, f"bench-live-{written}", local, created.id)
                written += 1

        try:
            wait_for(f"http://127.0.0.1:{PORT}/health", 60, web)
            base = f"http://127.0.0.1:{PORT}"
            api = f"{base}/api/ateliers/{created.token}"
            asyncio.run(sequential(api, 5))  # warm-up: questionnaire read, connections opened
            one_by_one = asyncio.run(sequential(api, 100))
            thread = threading.Thread(target=writer, daemon=True)
            thread.start()
            polled, errors = asyncio.run(polling(api, args.viewers, args.duration))
            stop_writer.set()
            thread.join()
            page = asyncio.run(sequential(f"{base}/ateliers/{created.token}", 20))
            export = asyncio.run(sequential(f"{base}/ateliers/{created.token}/export.csv", 20))
        finally:
            stop_writer.set()
            web.terminate()
            web.wait(timeout=30)
        final = workshops.dashboard(created.id, survey, engine)
        engine.dispose()

    report: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "database": database_url.split(":", 1)[0],
        "participants": args.participants,
        "seeding_s": round(seeding_s, 1),
        "dashboard_api_one_client": summary(one_by_one),
        "dashboard_api_polling": {**summary(polled), "viewers": args.viewers, "duration_s": args.duration,
                                  "requests_per_s": round(len(polled) / args.duration, 1), "errors": errors,
                                  "finished_meanwhile": written},
        "dashboard_page": summary(page),
        "csv_export": summary(export),
        "final_counts": {"joined": final["joined"], "finished": final["finished"]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"workshop-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"written to {out.relative_to(ROOT)}")
    expected = args.participants + written
    if errors or final["finished"] != expected:
        print(f"FAILED: {errors} errors, {final['finished']} finished instead of {expected}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
