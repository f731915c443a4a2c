"""What Rasa's event broker (the analytics' source, docs/analytics.md) adds to a turn, in one run.

``.venv/bin/python -m bench.broker [--diagnostics 8]`` (``make bench-broker``) starts two stacks of the
assistant on their own ports with throw-away databases: one with Rasa's SQL event broker as ``make run``
writes it (and the web app projecting the events every ANALYTICS_INTERVAL seconds), one without
(``EVENT_BROKER=none``, ``ANALYTICS_INTERVAL=0``). One simulated user then completes diagnostics on each
in turn (16 turns each: greeting, start, 13 answers, « C'est bon »), alternating which stack goes first,
so that the machine's load falls on both alike. It prints the per-turn p50 and p95 of each and the
difference (target: at most 5 ms on the p50), checks that the events reached the analytics tables, and
writes the figures to ``bench/results/broker-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.load import RESULT_MARKER, Bot, Sample, converse, new_session, our_script, percentile
from bench.processes import LOG_DIR, RESULTS_DIR, load_database, stack_env
from bot.runtime.stack import DEFAULT_MODEL, Stack
from bot.store.analytics_tables import QuestionEvent
from bot.store.db import build_engine

TARGET_ADDED_P50_MS = 5.0
PORTS = {"with_broker": (25105, 25155, 28100), "without_broker": (25205, 25255, 28200)}
SETTINGS = {"with_broker": {"ANALYTICS_INTERVAL": "5"},
            "without_broker": {"EVENT_BROKER": "none", "ANALYTICS_INTERVAL": "0"}}


def start_stack(key: str, folder: Path, model: Path) -> Stack:
    env = {**stack_env(folder), **SETTINGS[key]}
    load_database(env)
    rasa, actions, web = PORTS[key]
    stack = Stack(rasa_port=rasa, action_port=actions, web_port=web, model=model, run_dir=folder, env=env,
                  log_dir=LOG_DIR / key)
    return stack.start()


async def alternate(bots: dict[str, Bot], diagnostics: int) -> dict[str, Sample]:
    samples = {key: Sample() for key in bots}
    rng = random.Random(2026)
    async with new_session(2) as session:
        for round_number in range(diagnostics):
            order = list(bots) if round_number % 2 == 0 else list(reversed(bots))
            for key in order:
                sender = f"bench-broker-{key}-{round_number}-{time.time_ns()}"
                await converse(session, bots[key], sender, our_script(rng, 0), samples[key])
    return samples


def projected_rows(folder: Path) -> int:
    engine = build_engine(f"sqlite:///{folder / 'alliance.db'}")
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(QuestionEvent)).scalar() or 0)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diagnostics", type=int, default=8, help="diagnostics per stack (16 turns each)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    with ExitStack() as cleanup:
        folders = {key: Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{key}-")))
                   for key in PORTS}
        bots = {}
        for key, folder in folders.items():
            stack = start_stack(key, folder, args.model)
            cleanup.callback(stack.stop)
            bots[key] = Bot(key, stack.rasa_url, our_script, RESULT_MARKER, api_token=stack.api_token)
        asyncio.run(alternate(bots, 1))  # warm-up: models, caches, search indexes
        samples = asyncio.run(alternate(bots, args.diagnostics))
        time.sleep(7)  # one projection period, so that the events are in the analytics tables
        rows = {key: projected_rows(folder) for key, folder in folders.items()}
    figures: dict[str, Any] = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "diagnostics": args.diagnostics}
    for key, sample in samples.items():
        figures[key] = {"turns": len(sample.latencies_ms), "errors": sample.errors,
                        "p50_ms": percentile(sample.latencies_ms, 50), "p95_ms": percentile(sample.latencies_ms, 95),
                        "question_events": rows[key]}
    added = (figures["with_broker"]["p50_ms"] or 0) - (figures["without_broker"]["p50_ms"] or 0)
    figures["added_p50_ms"] = added
    figures["target_met"] = added <= TARGET_ADDED_P50_MS
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"broker-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print("| stack | turns | errors | p50 ms | p95 ms | question events projected |\n|---|---|---|---|---|---|")
    for key in PORTS:
        row = figures[key]
        print(f"| {key} | {row['turns']} | {row['errors']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} "
              f"| {row['question_events']} |")
    print(f"\nThe broker adds {added:.1f} ms to a turn's p50 (target ≤ {TARGET_ADDED_P50_MS:g} ms: "
          f"{'met' if figures['target_met'] else 'not met'}). Figures in {out}")
    errors = sum(figures[key]["errors"] for key in PORTS)
    return 1 if errors or not figures["with_broker"]["question_events"] or figures["without_broker"]["question_events"] \
        else 0


if __name__ == "__main__":
    raise SystemExit(main())
