"""Two variants of our stack side by side in one run: with and without the process tuning, or two trained models.

``python -m bench.tuning [--conversations N] [--users N]`` starts two stacks of our assistant on their own ports
(``BENCH_PORT_OFFSET``-moved) and databases: one with the environment of :data:`bot.runtime.processes.RASA_TUNING_ENV`
and ``SERVICE_TUNING_ENV`` (what ``make run`` uses), one without. With ``--models A.tar.gz B.tar.gz``, both stacks
are tuned and differ only by the model they load (a change of config.yml measured against the previous one).
It then sends complete diagnostics to each in
turn (the same answers to both, alternating conversation by conversation, so that a shared machine's noise falls
on both alike), and prints, for each stack: turn p50, the CPU milliseconds per turn of each process (/proc
user+system), and each process's resident memory (VmRSS) after the load. The figures go to
``bench/results/tuning-<UTC timestamp>.json``. Every process started here is stopped on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.load import RESULT_MARKER, Bot, Sample, median, new_session, our_script, percentile, simulate_user
from bench.processes import OUR_PORTS, RESULTS_DIR, load_database, make_stack, stack_env
from bench.usage import cpu_ms_per_turn, cpu_snapshot, tree_rss_mib
from bot.runtime.processes import DEFAULT_MODEL
from bot.runtime.stack import Stack

#: variant name -> (the model it loads, whether it runs with the process tuning)
Variants = dict[str, tuple[Path, bool]]
TUNING_VARIANTS: Variants = {"untuned": (DEFAULT_MODEL, False), "tuned": (DEFAULT_MODEL, True)}


def start(running: ExitStack, variant: str, number: int, model: Path, tuned: bool) -> Stack:
    data_dir = Path(running.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-tuning-{variant}-")))
    ports = tuple(port + 10 * number for port in OUR_PORTS)
    stack = make_stack(ports, data_dir, model)  # type: ignore[arg-type]
    if not tuned:
        stack.rasa_tuning, stack.service_tuning = {}, {}
    load_database(stack_env(data_dir))
    stack.start()
    running.callback(stack.stop)
    return stack


async def one_conversation(bot: Bot, sender: str, sample: Sample) -> None:
    async with new_session(1) as session:
        await simulate_user(session, bot, sender, time.monotonic(), 1, sample)


def compare(conversations: int, users: int, variants: Variants = TUNING_VARIANTS) -> dict[str, Any]:
    with ExitStack() as running:
        stacks = {variant: start(running, variant, number, *variants[variant])
                  for number, variant in enumerate(variants)}
        bots = {variant: Bot(variant, stack.rasa_url, our_script, RESULT_MARKER,
                             pids={name: process.pid for name, process in stack.processes.items()},
                             api_token=stack.api_token)
                for variant, stack in stacks.items()}
        for variant, bot in bots.items():  # warm-up: first-use loading is not what is measured
            asyncio.run(one_conversation(bot, f"bench-tuning-{variant}-warmup", Sample()))
        samples = {variant: Sample() for variant in variants}
        cpu = {variant: 0.0 for variant in variants}
        totals: dict[str, dict[str, float]] = {variant: {} for variant in variants}
        for index in range(conversations):
            for variant, bot in bots.items():
                before = cpu_snapshot(bot.pids)
                turns = len(samples[variant].latencies_ms)

                async def run_users(bot: Bot = bot, variant: str = variant, index: int = index) -> None:
                    await asyncio.gather(*[one_conversation(bot, f"bench-tuning-x-c{index}-u{user}", samples[variant])
                                           for user in range(users)])

                asyncio.run(run_users())
                spent = cpu_ms_per_turn(before, cpu_snapshot(bot.pids), len(samples[variant].latencies_ms) - turns)
                for name, value in spent.items():
                    totals[variant][name] = totals[variant].get(name, 0.0) + (value or 0.0)
                cpu[variant] += 1
        results = {}
        for variant, stack in stacks.items():
            sample = samples[variant]
            results[variant] = {
                "turns": len(sample.latencies_ms), "errors": sample.errors, "error_examples": sample.error_examples,
                "p50_ms": median(sample.latencies_ms), "p95_ms": percentile(sample.latencies_ms, 95),
                "cpu_ms_per_turn": {name: value / cpu[variant] for name, value in totals[variant].items()},
                "rss_mib": {name: tree_rss_mib(process.pid) for name, process in stack.processes.items()},
            }
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Two variants of our stack, side by side.")
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--users", type=int, default=1, help="simultaneous users per conversation round")
    parser.add_argument("--models", type=Path, nargs=2, metavar=("A", "B"),
                        help="compare two trained models (both stacks tuned) instead of tuned and untuned")
    args = parser.parse_args(argv)
    variants = TUNING_VARIANTS
    if args.models:
        variants = {f"A ({args.models[0].name})": (args.models[0], True), f"B ({args.models[1].name})": (args.models[1], True)}
    results = compare(args.conversations, args.users, variants)
    for variant, figures in results.items():
        cpu = ", ".join(f"{name} {value:.1f}" for name, value in figures["cpu_ms_per_turn"].items())
        rss = ", ".join(f"{name} {value:.0f}" for name, value in figures["rss_mib"].items())
        print(f"{variant}: {figures['turns']} turns, {figures['errors']} errors, p50 {figures['p50_ms']:.1f} ms, "
              f"CPU ms/turn: {cpu}; RSS MiB: {rss} (total {sum(figures['rss_mib'].values()):.0f})")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"tuning-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"JSON: {out}")
    return 0 if all(not figures["errors"] for figures in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
