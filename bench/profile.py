"""Sampling profiles of our Rasa server and action server under one simulated user (py-spy).

``python -m bench.profile [--seconds 60]`` starts our stack (``BENCH_PORT_OFFSET``-moved ports, fresh databases),
warms it up with one diagnostic, then keeps one user doing complete diagnostics (16 turns each, button answers,
as ``bench.run``) while ``py-spy record`` samples each process. The raw stacks go to
``bench/results/profile-<process>-<UTC timestamp>.txt`` (py-spy's collapsed format, for flamegraph.pl or
speedscope), and the top entries, self and total, are printed as Markdown tables (docs/performance.md).
Only the thread holding the GIL is sampled (``--gil``): what the process computes in Python, not the time a
thread waits for the disk (SQLite's fsync at commit) or the network, nor native code that releases the GIL.

Samples whose innermost frame is a wait (the event loop's ``select``, an idle worker thread) are left out, so the
percentages are of the time a process was doing something. py-spy comes from PyPI (requirements.lock); it runs
with ``--nonblocking`` (the profiled process is never paused).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.load import Bot, Sample, new_session, our_script, simulate_user
from bench.processes import RESULTS_DIR, our_stack
from bot.runtime.processes import DEFAULT_MODEL

PY_SPY = Path(sys.executable).parent / "py-spy"
RATE = 200  # samples per second
# Innermost frames that mean « waiting »: the event loop's poll, an idle thread pool, a lock.
IDLE = {"select (selectors.py)", "_worker (concurrent/futures/thread.py)", "wait (threading.py)",
        "serve (sanic/server/runners.py)", "_run_once (asyncio/base_events.py)", "run (sanic/server/runners.py)"}
FRAME = re.compile(r"(.*) \((.*?):\d+\)$")


def short(frame: str) -> str:
    """``function (file)`` with the file relative to site-packages, the standard library or the repository."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    function, path = match.groups()
    path = re.sub(r".*/site-packages/", "", path)
    path = re.sub(r".*/lib/python3\.\d+/", "", path)
    path = re.sub(r"^/work/[^/]+/|^.*/(?=(bot|actions|bench)/)", "", path)
    return f"{function} ({path})"


def top_entries(raw: Path, count: int = 20) -> str:
    """Markdown tables of the busiest functions of a py-spy raw profile, by self and by total share."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    busy = idle = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, number = line.rpartition(" ")
        frames = [short(frame) for frame in stack.split(";") if frame and not frame.startswith(("process ", "thread "))]
        if not frames or not number.isdigit():
            continue
        if frames[-1] in IDLE:
            idle += int(number)
            continue
        busy += int(number)
        own[frames[-1]] += int(number)
        for frame in set(frames):
            total[frame] += int(number)
    if not busy:
        return "no busy sample"
    lines = [f"{busy} busy samples ({idle} waiting left out)", "", "| self % | function |", "|---:|---|"]
    lines += [f"| {100 * n / busy:.1f} | `{frame}` |" for frame, n in own.most_common(count)]
    lines += ["", "| total % | function |", "|---:|---|"]
    # The frames every sample shares (the module, the server loop) say nothing: from below 95 % only.
    shown = [(frame, n) for frame, n in total.most_common() if n < 0.95 * busy][:count]
    lines += [f"| {100 * n / busy:.1f} | `{frame}` |" for frame, n in shown]
    return "\n".join(lines)


async def keep_busy(bot: Bot, seconds: float, sample: Sample) -> None:
    async with new_session(1) as session:
        await simulate_user(session, bot, f"bench-profile-{time.time_ns()}-u0", time.monotonic() + seconds, 10_000,
                            sample)


def profile(seconds: float) -> dict[str, Path]:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, Path] = {}
    with our_stack(DEFAULT_MODEL, {}) as stack:
        bot = Bot("ours", stack.rasa_url, our_script, api_token=stack.api_token)
        asyncio.run(keep_busy(bot, 0, Sample()))  # warm-up: one diagnostic
        recorders = []
        for name in ("rasa", "actions"):
            outputs[name] = RESULTS_DIR / f"profile-{name}-{stamp}.txt"
            command = [str(PY_SPY), "record", "--nonblocking", "--gil", "--format", "raw", "--rate", str(RATE),
                       "--duration", str(int(seconds)), "--pid", str(stack.processes[name].pid),
                       "--output", str(outputs[name])]
            recorders.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        sample = Sample()
        asyncio.run(keep_busy(bot, seconds, sample))
        for recorder in recorders:
            recorder.wait(timeout=seconds + 120)
    print(f"{len(sample.latencies_ms)} turns, {sample.errors} errors")
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="py-spy profiles of Rasa and the action server under one user.")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--show", type=Path, nargs="*", help="only print the tables of these raw profiles")
    args = parser.parse_args(argv)
    outputs = {path.stem: path for path in args.show} if args.show else profile(args.seconds)
    for name, path in outputs.items():
        print(f"\n### {name} ({path})\n\n{top_entries(path, args.top)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
