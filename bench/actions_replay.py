"""CPU time of the action server per turn, without Rasa: real action calls captured once, replayed many times.

``python -m bench.actions_replay capture`` starts our stack (on ``BENCH_PORT_OFFSET``-moved ports, fresh
databases), puts a recording proxy between Rasa and the action server, plays one complete diagnostic and the
knowledge questions of ``bench.run``, and writes every action call Rasa made (its JSON, and the user message
of its turn) to ``bench/results/action_calls.json``.

``python -m bench.actions_replay replay [--tree DIR …] [--rounds N]`` starts one action server per source
tree (default: this one; give an older checkout with ``git worktree add`` to compare before/after in the
same run), each on its own freshly loaded database, and posts the captured calls to each in turn, round after
round, with a new sender id per round (the database sees a new conversation each time). It reads each
server's user+system CPU time from /proc around every call, and prints the CPU milliseconds per turn (all
calls of a turn), per diagnostic answer, per knowledge question, and per action.

Rounds alternate between the trees, so that the noise of a shared machine falls on both alike. Every
process started here is stopped on the way out; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.load import KNOWLEDGE_BASELINE, KNOWLEDGE_QUESTIONS, RESULT_MARKER, Bot, Sample, our_script, turn
from bench.processes import LOG_DIR, OUR_PORTS, RESULTS_DIR, START_TIMEOUT, environment, stack_env, stop_process
from bench.usage import cpu_seconds
from bot.runtime.processes import ACTIONS_LISTEN_ENV, DEFAULT_MODEL, wait_for
from bot.runtime.stack import Stack

CALLS_FILE = RESULTS_DIR / "action_calls.json"
REPLAY_PORT = OUR_PORTS[1] + 100  # the first replayed action server; the next trees take the next ports
LOADER_TIMEOUT = 300.0
DIAGNOSTIC_TURNS = len(our_script(random.Random(1), 0))


# Capture -----------------------------------------------------------------------------------------------------


class _Recorder:
    """An HTTP proxy in front of the action server that keeps each call's JSON and the turn it belongs to."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.turn: tuple[int, str] = (0, "")
        self.calls: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = zlib.decompress(raw) if request.headers.get("Content-Encoding") == "deflate" else raw
        self.calls.append({"turn": self.turn, "call": json.loads(body)})
        async with aiohttp.ClientSession() as session, session.post(
            self.target, data=body, headers={"Content-Type": "application/json"}
        ) as reply:
            return web.Response(body=await reply.read(), status=reply.status, content_type="application/json")


class _ProxiedStack(Stack):
    """Our stack whose Rasa calls ``action_port`` (the recorder) while the action server listens on +1."""

    def actions_spec(self):  # type: ignore[no-untyped-def]
        real = Stack(rasa_port=self.rasa_port, action_port=self.action_port + 1, web_port=self.web_port,
                     model=self.model, run_dir=self.run_dir, env=self.env, log_dir=self.log_dir,
                     api_token=self.api_token)
        return real.actions_spec()


async def _play(recorder: _Recorder, bot: Bot, proxy_port: int) -> Sample:
    runner = web.AppRunner(web.Application(client_max_size=64 * 1024 * 1024))
    runner.app.router.add_post("/webhook", recorder.handle)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", proxy_port).start()
    sample = Sample()
    try:
        async with aiohttp.ClientSession() as session:
            script = our_script(random.Random(1), 0)
            messages = [*script, *[text for question in KNOWLEDGE_QUESTIONS for text in (KNOWLEDGE_BASELINE, question)]]
            for index, text in enumerate(messages):
                recorder.turn = (index, text)
                await turn(session, bot, "capture", text, sample)
    finally:
        await runner.cleanup()
    return sample


def capture(model: Path) -> Path:
    rasa_port, action_port, web_port = OUR_PORTS
    with tempfile.TemporaryDirectory(prefix="bench-capture-") as folder:
        data_dir = Path(folder)
        _load(Path.cwd(), data_dir)
        stack = _ProxiedStack(rasa_port=rasa_port, action_port=action_port, web_port=web_port, model=model,
                              run_dir=data_dir, env=stack_env(data_dir), log_dir=LOG_DIR,
                              rasa_start_timeout=START_TIMEOUT)
        recorder = _Recorder(f"http://127.0.0.1:{action_port + 1}/webhook")
        try:
            stack.start()
            bot = Bot("ours", stack.rasa_url, our_script, RESULT_MARKER, api_token=stack.api_token)
            sample = asyncio.run(_play(recorder, bot, action_port))
        finally:
            stack.stop()
    if sample.errors:
        raise RuntimeError(f"capture: {sample.error_examples}")
    CALLS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CALLS_FILE.write_text(json.dumps(recorder.calls, ensure_ascii=False), encoding="utf-8")
    return CALLS_FILE


# Replay ------------------------------------------------------------------------------------------------------


def _load(tree: Path, data_dir: Path) -> None:
    env = environment(stack_env(data_dir))
    subprocess.run([str(tree / ".venv" / "bin" / "python"), "-m", "bot.store.loader"], cwd=tree, env=env,
                   check=True, timeout=LOADER_TIMEOUT, stdout=subprocess.DEVNULL)


@contextmanager
def action_server(tree: Path, port: int, data_dir: Path) -> Iterator[subprocess.Popen]:
    """An action server from ``tree`` on ``port`` over a database freshly loaded into ``data_dir``."""
    _load(tree, data_dir)
    env = environment({**stack_env(data_dir), **ACTIONS_LISTEN_ENV})
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / f"replay-actions-{port}.log", "ab") as log:
        process = subprocess.Popen([str(tree / ".venv" / "bin" / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                    "-p", str(port)], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_for(f"http://127.0.0.1:{port}/health", START_TIMEOUT, process)
            yield process
        finally:
            stop_process(process)


def _renamed(call: dict[str, Any], sender: str) -> bytes:
    """The call as sent for another conversation (the database sees a new one each round)."""
    changed = {**call, "sender_id": sender, "tracker": {**call["tracker"], "sender_id": sender}}
    return json.dumps(changed).encode()


async def _round(session: aiohttp.ClientSession, url: str, pid: int, calls: list[dict[str, Any]], sender: str,
                 cpu: dict[int, list[float]]) -> None:
    for index, item in enumerate(calls):
        body = _renamed(item["call"], sender)
        before = cpu_seconds(pid)
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as reply:
            await reply.read()
            if reply.status != 200:
                raise RuntimeError(f"{item['call']['next_action']}: HTTP {reply.status}")
        # /proc ticks are 10 ms: summed over many rounds, the per-call figures average out.
        cpu[index].append(cpu_seconds(pid) - before)


async def _replay(servers: dict[str, tuple[str, int]], calls: list[dict[str, Any]], rounds: int,
                  warmup: int) -> dict[str, dict[int, list[float]]]:
    cpu: dict[str, dict[int, list[float]]] = {name: defaultdict(list) for name in servers}
    async with aiohttp.ClientSession() as session:
        for number in range(warmup + rounds):
            for name, (url, pid) in servers.items():
                measured: dict[int, list[float]] = cpu[name] if number >= warmup else defaultdict(list)
                await _round(session, url, pid, calls, f"replay-{name}-{number}-{time.time_ns()}", measured)
    return cpu


def figures(calls: list[dict[str, Any]], cpu: dict[int, list[float]]) -> dict[str, Any]:
    """Mean CPU ms per call, summed per turn; the turns grouped as the benchmark groups them."""
    mean_ms = {index: 1000 * statistics.fmean(values) for index, values in cpu.items()}
    per_turn: dict[tuple[int, str], float] = defaultdict(float)
    per_action: dict[str, list[float]] = defaultdict(list)
    for index, item in enumerate(calls):
        per_turn[tuple(item["turn"])] += mean_ms[index]
        per_action[item["call"]["next_action"]].append(mean_ms[index])
    # The diagnostic's turns come first (our_script: 16 turns), then greeting / question pairs; a turn with no
    # action call (a rule's response only) costs the action server nothing.
    diagnostic = sum(value for (index, _text), value in per_turn.items() if index < DIAGNOSTIC_TURNS)
    knowledge = [value for (_index, text), value in per_turn.items() if text in KNOWLEDGE_QUESTIONS]
    return {
        "calls": len(calls),
        "cpu_ms_per_diagnostic_turn": diagnostic / DIAGNOSTIC_TURNS,
        "cpu_ms_per_knowledge_question": statistics.fmean(knowledge) if knowledge else None,
        "cpu_ms_per_turn": {f"{index} {text}": round(value, 2) for (index, text), value in per_turn.items()},
        "cpu_ms_per_action": {name: round(statistics.fmean(values), 2) for name, values in sorted(per_action.items())},
    }


def replay(trees: list[Path], rounds: int, warmup: int) -> dict[str, Any]:
    calls = json.loads(CALLS_FILE.read_text(encoding="utf-8"))
    with ExitStack() as running:
        servers: dict[str, tuple[str, int]] = {}
        for number, tree in enumerate(trees):
            port = REPLAY_PORT + number
            data_dir = Path(running.enter_context(tempfile.TemporaryDirectory(prefix="bench-replay-")))
            process = running.enter_context(action_server(tree.resolve(), port, data_dir))
            servers[f"{number}:{tree}"] = (f"http://127.0.0.1:{port}/webhook", process.pid)
        cpu = asyncio.run(_replay(servers, calls, rounds, warmup))
    return {name: figures(calls, values) for name, values in cpu.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Action-server CPU per turn from captured action calls.")
    parser.add_argument("command", choices=["capture", "replay"])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--tree", type=Path, action="append", help="source tree of an action server (repeatable)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "capture":
        print(capture(args.model))
        return 0
    results = replay(args.tree or [Path.cwd()], args.rounds, args.warmup)
    for name, result in results.items():
        print(f"\n## {name}: {result['calls']} calls, {args.rounds} rounds")
        print(f"CPU ms per diagnostic turn: {result['cpu_ms_per_diagnostic_turn']:.2f}")
        knowledge = result["cpu_ms_per_knowledge_question"]
        print(f"CPU ms per knowledge question: {knowledge:.2f}" if knowledge is not None else "no knowledge question")
        for action, value in result["cpu_ms_per_action"].items():
            print(f"  {action}: {value:.2f} ms")
    out = RESULTS_DIR / f"actions-replay-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nJSON: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
