"""Benchmark of the assistant against a stock ``rasa init`` bot, in one run.

``.venv/bin/python -m bench.run [--users 1,5,20] [--quick]`` (from the repository root)
starts both bots on their own ports with throw-away databases and measures, with
client-side timings over Rasa's REST channel:

- single user: per-turn latency p50 / p95 (and Rasa's ``/model/parse`` alone, to
  separate the NLU from the rest of a turn);
- whole diagnostics answered in words (13 typed answers, one user): the typed answer's turn p50 (issue 14)
  and the CPU per turn;
- N concurrent users: turns per second, p50, p95 and errors;
- a long conversation (8 diagnostics in a row, one sender, « Recommencer » between
  them): does a turn get slower as the tracker grows?
- cold start of our stack until the first reply, and ``rasa train`` wall time
  (skipped with ``--quick``);
- resident memory of our three processes after the load.

It prints a Markdown table (targets with met / not met) and writes the same figures
as JSON to ``bench/results/bench-<UTC timestamp>.json``. A missed target is not a
failure; the exit code is 1 when a bot could not be started or errors occurred.
Every process it starts is stopped on the way out, and every loop is bounded in
count and time. It only talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.load import (
    CONFIRM_PAYLOAD,
    FREE_TEXT,
    KNOWLEDGE_BASELINE,
    KNOWLEDGE_QUESTIONS,
    KNOWLEDGE_ROUNDS,
    MAX_CONVERSATIONS_PER_USER,
    PHASE_FAILURES,
    REQUEST_TIMEOUT,
    RESTART_PAYLOAD,
    RESULT_MARKER,
    SEED,
    TARGET_KNOWLEDGE_ADDED_MS,
    TYPED_ANSWERS,
    Bot,
    Sample,
    converse,
    diagnostic_answers,
    measure_users,
    median,
    new_session,
    opening_turns,
    our_script,
    run_users,
    stock_script,
    summary,
    time_parses,
    turn,
    user_random,
)
from bench.processes import (
    COLD_PORTS,
    OUR_PORTS,
    STOCK_PORT,
    STOCK_URL,
    busy_ports,
    ensure_stock_bot,
    measure_cold_start,
    measure_training,
    our_stack,
    stock_bot,
)
from bench.report import Row, cpu_model, fmt, loadavg, markdown, write_json
from bench.usage import cpu_ms_per_turn, cpu_snapshot, tree_rss_mib
from bot.runtime.processes import DEFAULT_MODEL
from bot.runtime.stack import Stack

LONG_DIAGNOSTICS = 8
LONG_WINDOW = 30  # turns compared at the start and at the end of the long conversation

TARGET_LONG_RATIO = 1.3
TARGET_COLD_START_S = 30.0
TARGET_MEMORY_MIB = 1.5 * 1024
# Issue 16's targets for one user: CPU milliseconds per turn of each of our processes, and the result turn.
TARGET_CPU_MS = {"actions": 12.0, "rasa": 18.0}
TARGET_RESULT_P50_MS = 100.0
TARGET_THROUGHPUT_RATIO = 4.0  # at the most concurrent users, our turns/s over the stock bot's
TARGET_TYPED_P50_MS = 60.0  # issue 14: a free-text turn of the questionnaire


@dataclass
class Benchmark:
    """One run: its options, the figures gathered so far, and what went wrong."""

    users: list[int]
    quick: bool
    duration: float
    single_conversations: int
    model: Path
    run_id: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def sender(self, bot: Bot, phase: str, user: int = 0) -> str:
        return f"bench-{self.run_id}-{bot.key}-{phase}-u{user}"

    def add(self, section: str, figure: str, stock: Any = None, ours: Any = None, target: str = "",
            met: bool | None = None) -> None:
        self.rows.append(Row(section, figure, stock, ours, target, met))

    def note_errors(self, phase: str, figures: dict[str, Any]) -> None:
        if figures.get("errors"):
            self.problems.append(f"{phase}: {figures['errors']} error(s), e.g. {figures['error_examples'][:3]}")

    # Phases ------------------------------------------------------------------------

    def single_user(self, bots: dict[str, Bot]) -> None:
        """Per-turn latency of one user at a time, after one warm-up conversation, plus NLU alone."""
        figures: dict[str, dict[str, Any]] = {}
        for key, bot in bots.items():
            asyncio.run(run_users(bot, [self.sender(bot, "warmup")], 0, 1))
            figures[key] = measure_users(bot, [self.sender(bot, "single")], 3600, self.single_conversations)
            figures[key].update(self.parse_figures(bot))
            self.note_errors(f"single user ({key})", figures[key])
        self.raw["single_user"] = figures
        section = f"Single user ({self.single_conversations} conversations × 16 turns)"
        for name, label in (("p50_ms", "turn p50 (ms)"), ("p95_ms", "turn p95 (ms)"),
                            ("parse_script_p50_ms", "`/model/parse` p50 of the same messages (ms)"),
                            ("parse_free_text_p50_ms", "`/model/parse` p50 of a free-text sentence (ms)"),
                            ("errors", "errors")):
            self.add(section, label, figures.get("stock", {}).get(name), figures.get("ours", {}).get(name))
        ours = figures.get("ours", {})
        self.add(section, "result turn p50 (ms)", None, ours.get("result_p50_ms"), f"≤ {TARGET_RESULT_P50_MS:.0f} ms",
                 None if ours.get("result_p50_ms") is None else ours["result_p50_ms"] <= TARGET_RESULT_P50_MS)
        for process in ("rasa", "actions", "web"):
            cpu = [figures.get(key, {}).get("cpu_ms_per_turn", {}).get(process) for key in ("stock", "ours")]
            target = TARGET_CPU_MS.get(process)
            self.add(section, f"CPU time per turn, `{process}` process (ms)", *cpu,
                     f"≤ {target:.0f} ms (ours)" if target else "", None if target is None or cpu[1] is None
                     else cpu[1] <= target)
        cpu_total = [sum(value or 0.0 for value in figures.get(key, {}).get("cpu_ms_per_turn", {}).values()) or None
                     for key in ("stock", "ours")]
        self.add(section, "CPU time per turn, every process (ms)", *cpu_total)

    def parse_figures(self, bot: Bot) -> dict[str, float | None]:
        """Median latency of NLU alone: on the conversation's own messages, and on a free-text sentence."""
        texts = bot.script(random.Random(SEED), 0)
        script = self.guarded(f"parse ({bot.key})", lambda: asyncio.run(time_parses(bot.rasa_url, texts, 3, bot.api_token)))
        free = self.guarded(f"parse ({bot.key})", lambda: asyncio.run(
            time_parses(bot.rasa_url, [FREE_TEXT[bot.key]], 10, bot.api_token)))
        return {"parse_script_p50_ms": median(script or []), "parse_free_text_p50_ms": median(free or [])}

    def typed_answers(self, bot: Bot) -> None:
        """One user answering whole diagnostics in words: the turns of the 13 typed answers, apart."""
        sender = self.sender(bot, "typed")
        typed, other = Sample(), Sample()

        async def run_all() -> None:
            async with new_session(1) as session:
                for index in range(self.single_conversations):
                    for text in opening_turns(index):
                        await turn(session, bot, sender, text, other)
                    for text in TYPED_ANSWERS:
                        await turn(session, bot, sender, text, typed)
                    said = await turn(session, bot, sender, CONFIRM_PAYLOAD, other)
                    if said is not None and RESULT_MARKER not in said:
                        typed.error(f"typed diagnostic {index + 1}: no result after the typed answers: {said[:200]!r}")

        before = cpu_snapshot(bot.pids)
        asyncio.run(asyncio.wait_for(run_all(), timeout=self.single_conversations * 16 * REQUEST_TIMEOUT))
        turns = len(typed.latencies_ms) + len(other.latencies_ms)
        figures = {**summary(typed), "cpu_ms_per_turn": cpu_ms_per_turn(before, cpu_snapshot(bot.pids), turns)}
        self.raw["typed_answers"] = figures
        self.note_errors("typed answers", figures)
        section = f"Answers typed in words ({self.single_conversations} diagnostics, one user)"
        p50 = figures["p50_ms"]
        self.add(section, "turn p50 of a typed answer (ms)", None, p50, f"≤ {TARGET_TYPED_P50_MS:.0f} ms",
                 None if p50 is None else p50 <= TARGET_TYPED_P50_MS)
        self.add(section, "turn p95 of a typed answer (ms)", None, figures["p95_ms"])
        for process in ("rasa", "actions"):
            self.add(section, f"CPU time per turn, `{process}` process (ms)", None,
                     figures["cpu_ms_per_turn"].get(process))
        self.add(section, "errors", None, figures["errors"])

    def concurrent_users(self, bots: dict[str, Bot]) -> None:
        """For each N: N users at once, each doing complete conversations for ``duration`` seconds."""
        self.raw["concurrent"] = {}
        for users in self.users:
            figures: dict[str, dict[str, Any]] = {}
            for key, bot in bots.items():
                senders = [self.sender(bot, f"load{users}", user) for user in range(users)]
                figures[key] = measure_users(bot, senders, self.duration, MAX_CONVERSATIONS_PER_USER)
                self.note_errors(f"{users} users ({key})", figures[key])
            self.raw["concurrent"][str(users)] = figures
            section = f"{users} concurrent user{'s' if users > 1 else ''} ({self.duration:.0f} s)"
            for name, label in (("turns_per_s", "turns/s"), ("p50_ms", "turn p50 (ms)"), ("p95_ms", "turn p95 (ms)"),
                                ("conversations", "complete conversations"), ("errors", "errors")):
                self.add(section, label, figures.get("stock", {}).get(name), figures.get("ours", {}).get(name))
            stock_rate, our_rate = (figures.get(key, {}).get("turns_per_s") for key in ("stock", "ours"))
            ratio = our_rate / stock_rate if stock_rate and our_rate else None
            last = users == max(self.users)
            self.add(section, "ours / stock turns/s", None, ratio,
                     f"≥ {TARGET_THROUGHPUT_RATIO:.0f}×" if last else "",
                     None if ratio is None or not last else ratio >= TARGET_THROUGHPUT_RATIO)
            for process in ("rasa", "actions", "web"):
                cpu = [figures.get(key, {}).get("cpu_ms_per_turn", {}).get(process) for key in ("stock", "ours")]
                if any(value is not None for value in cpu):
                    self.add(section, f"CPU time per turn, `{process}` process (ms)", *cpu)

    def memory(self, stack: Stack | None, stock: subprocess.Popen | None) -> None:
        """Resident memory (MiB) of each process tree, read right after the load."""
        ours = {name: tree_rss_mib(process.pid) for name, process in (stack.processes if stack else {}).items()}
        stock_mib = tree_rss_mib(stock.pid) if stock else None
        total = sum(ours.values()) if ours else None
        self.raw["memory_mib"] = {"ours": ours, "ours_total": total, "stock": stock_mib}
        section = "Memory after the load (VmRSS)"
        met = None if total is None else total <= TARGET_MEMORY_MIB
        self.add(section, "total of the bot's processes (MiB)", stock_mib, total, f"≤ {TARGET_MEMORY_MIB:.0f} MiB", met)
        for name, mib in ours.items():
            self.add(section, f"`{name}` process (MiB)", stock_mib if name == "rasa" else None, mib)

    def long_conversation(self, bot: Bot) -> None:
        """One sender, ``LONG_DIAGNOSTICS`` diagnostics in a row: are the last turns slower than the first?"""
        sender = self.sender(bot, "long")
        rng = user_random(sender)
        scripts = [our_script(rng, 0)] + [[RESTART_PAYLOAD, *diagnostic_answers(rng), CONFIRM_PAYLOAD]
                                          for _ in range(LONG_DIAGNOSTICS - 1)]
        sample = Sample()
        starts: list[int] = []  # index of each diagnostic's first turn in the sample

        async def run_all() -> None:
            async with new_session(1) as session:
                for script in scripts:
                    starts.append(len(sample.latencies_ms))
                    await converse(session, bot, sender, script, sample)

        asyncio.run(asyncio.wait_for(run_all(), timeout=len(scripts) * 15 * REQUEST_TIMEOUT))
        first = median(sample.latencies_ms[:LONG_WINDOW])
        last = median(sample.latencies_ms[-LONG_WINDOW:])
        ratio = last / first if first and last else None
        ends = [*starts[1:], len(sample.latencies_ms)]
        per_diagnostic = [median(sample.latencies_ms[start:end]) for start, end in zip(starts, ends)]
        figures = {**summary(sample), "first_30_median_ms": first, "last_30_median_ms": last, "ratio": ratio,
                   "median_ms_per_diagnostic": per_diagnostic}
        self.raw["long_conversation"] = figures
        self.note_errors("long conversation", figures)
        section = f"Long conversation ({LONG_DIAGNOSTICS} diagnostics, one sender, {len(sample.latencies_ms)} turns)"
        self.add(section, f"median of the first {LONG_WINDOW} turns (ms)", None, first)
        self.add(section, f"median of the last {LONG_WINDOW} turns (ms)", None, last)
        self.add(section, "last / first", None, ratio, f"≤ {TARGET_LONG_RATIO}",
                 None if ratio is None else ratio <= TARGET_LONG_RATIO)
        self.add(section, f"median turn of diagnostic 1 → {len(per_diagnostic)} (ms)", None,
                 " → ".join(fmt(value) for value in per_diagnostic))
        self.add(section, "errors", None, sample.errors)

    def knowledge(self, bot: Bot) -> None:
        """What a knowledge answer adds to a turn: knowledge questions against greetings, interleaved."""
        sender = self.sender(bot, "knowledge")
        base, asked = Sample(), Sample()

        async def run_all() -> None:
            async with new_session(1) as session:
                for _ in range(KNOWLEDGE_ROUNDS):
                    for question in KNOWLEDGE_QUESTIONS:
                        await turn(session, bot, sender, KNOWLEDGE_BASELINE, base)
                        await turn(session, bot, sender, question, asked)

        asyncio.run(asyncio.wait_for(run_all(), timeout=KNOWLEDGE_ROUNDS * len(KNOWLEDGE_QUESTIONS) * 2 * REQUEST_TIMEOUT))
        baseline, knowledge = median(base.latencies_ms), median(asked.latencies_ms)
        added = knowledge - baseline if baseline is not None and knowledge is not None else None
        self.raw["knowledge"] = {"baseline": summary(base), "knowledge": summary(asked), "added_p50_ms": added}
        self.note_errors("knowledge", summary(asked))
        section = f"Knowledge answers ({len(asked.latencies_ms)} questions, one sender)"
        self.add(section, f"turn p50 of « {KNOWLEDGE_BASELINE} » (ms)", None, baseline)
        self.add(section, "turn p50 of a knowledge question (ms)", None, knowledge)
        self.add(section, "added by the knowledge answer (ms)", None, added, f"≤ {TARGET_KNOWLEDGE_ADDED_MS:.0f} ms",
                 None if added is None else added <= TARGET_KNOWLEDGE_ADDED_MS)

    def start_up(self, cold: dict[str, float] | None, stock: dict[str, Any], ours: dict[str, Any]) -> None:
        self.raw["startup"] = {"cold_start": cold, "stock": stock, "ours_bench_stack": ours}
        section = "Start-up"
        cold_reply = (cold or {}).get("first_reply_s")
        self.add(section, "cold start → first reply (s)", stock.get("first_reply_s"), cold_reply,
                 f"≤ {TARGET_COLD_START_S:.0f} s (ours)", None if cold_reply is None else cold_reply <= TARGET_COLD_START_S)
        self.add(section, "start → all processes ready (s)", stock.get("ready_s"), (cold or {}).get("ready_s"))
        self.add(section, "`bot.store.loader` database load (s), before the start", None, (cold or {}).get("loader_s"))

    # Orchestration ----------------------------------------------------------------

    def guarded(self, what: str, action: Callable[[], Any]) -> Any:
        """Run one phase; a failure is recorded (and makes the run fail) instead of stopping the others."""
        try:
            return action()
        except PHASE_FAILURES as exc:
            self.problems.append(f"{what}: {type(exc).__name__}: {exc}")
            return None

    def run(self) -> None:
        busy = busy_ports([*OUR_PORTS, *COLD_PORTS, STOCK_PORT])
        if busy:
            self.problems.append(f"ports already in use: {busy} (another benchmark running?)")
            return
        if self.quick:
            self.raw["training_s"] = None
        else:
            training = self.guarded("training", measure_training)
            self.raw["training_s"] = training
            self.add("Training", "`rasa train --force` wall time, through the launcher as `make train` (s)", None, training)
        self.raw["stock_init_s"] = self.guarded("stock bot creation", ensure_stock_bot)
        if not self.model.exists():
            self.problems.append(f"our assistant: no trained model at {self.model} (`make train`)")
        cold = self.guarded("cold start", lambda: measure_cold_start(self.model)) if self.model.exists() else None
        stock_startup: dict[str, Any] = {}
        our_startup: dict[str, Any] = {}
        with ExitStack() as running:
            bots: dict[str, Bot] = {}
            stock = self.guarded("stock bot start", lambda: running.enter_context(stock_bot(stock_startup)))
            if stock:
                bots["stock"] = Bot("stock", STOCK_URL, stock_script, pids={"rasa": stock.pid})
            stack = None
            if self.model.exists():
                stack = self.guarded("our stack start", lambda: running.enter_context(our_stack(self.model, our_startup)))
            if stack:
                pids = {name: process.pid for name, process in stack.processes.items()}
                bots["ours"] = Bot("ours", stack.rasa_url, our_script, RESULT_MARKER, pids=pids, api_token=stack.api_token)
            self.start_up(cold, stock_startup, our_startup)
            self.guarded("single user", lambda: self.single_user(bots))
            if "ours" in bots:
                self.guarded("typed answers", lambda: self.typed_answers(bots["ours"]))
            self.guarded("concurrent users", lambda: self.concurrent_users(bots))
            self.guarded("memory", lambda: self.memory(stack, stock))
            if "ours" in bots:
                self.guarded("long conversation", lambda: self.long_conversation(bots["ours"]))
                self.guarded("knowledge", lambda: self.knowledge(bots["ours"]))

    def report(self) -> dict[str, Any]:
        header = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "run_id": self.run_id,
            "nproc": len(os.sched_getaffinity(0)),
            "cpu_model": cpu_model(),
            "loadavg_start": self.raw.get("loadavg_start"),
            "loadavg_end": loadavg(),
            "options": {"users": self.users, "quick": self.quick, "duration_s": self.duration,
                        "single_conversations": self.single_conversations, "model": str(self.model)},
        }
        return {**header, "rows": [asdict(row) for row in self.rows], "details": self.raw, "problems": self.problems,
                "ok": not self.problems}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark our assistant against a stock `rasa init` bot.")
    parser.add_argument("--users", default="1,5,20", help="concurrent user counts, comma-separated (default 1,5,20)")
    parser.add_argument("--quick", action="store_true", help="skip training, shorter load phases")
    parser.add_argument("--duration", type=float, help="seconds of each load phase (default 60, 20 with --quick)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="our trained model")
    args = parser.parse_args(argv)
    args.users = [int(value) for value in args.users.split(",") if value.strip()]
    if not args.users or min(args.users) < 1 or max(args.users) > 200:
        parser.error("--users takes counts between 1 and 200")
    if args.duration is None:
        args.duration = 20.0 if args.quick else 60.0
    if not 1 <= args.duration <= 3600:
        parser.error("--duration must be between 1 and 3600 seconds")
    return args




def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Benchmark(users=args.users, quick=args.quick, duration=args.duration,
                      single_conversations=5 if args.quick else 10, model=args.model)
    bench.raw["loadavg_start"] = loadavg()
    try:
        bench.run()
    finally:
        report = bench.report()
        print(markdown(report, bench.rows))
        for problem in bench.problems:
            print(f"- problem: {problem}")
        print(f"\nJSON: {write_json(report, 'bench-' + report['run_id'])}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
