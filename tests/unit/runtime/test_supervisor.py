"""The supervisor (bot/runtime/supervisor.py) with tiny ``python -c`` processes: backoff, restart, logging, clean stop.

Every fake process carries a marker argument unique to the test, so that ``ps`` shows whether any is left.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.paths import REPO_ROOT
from bot.runtime.supervisor import Backoff, ProcessSpec, Supervisor, describe_exit

FAST = Backoff(initial=0.05, factor=2.0, maximum=0.2, stable_after=0.5)
SLEEP = "import sys, time; time.sleep(600)"
# Starts a child of its own (as nginx starts its workers), writes the child's pid, then sleeps.
WITH_CHILD = ("import pathlib, subprocess, sys, time; "
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', sys.argv[1]]); "
              "written = pathlib.Path(sys.argv[2] + '.tmp'); written.write_text(str(child.pid)); "
              "written.replace(sys.argv[2]); time.sleep(600)")
# Lives as many seconds as its file says, then exits with code 3.
LIFETIME = "import pathlib, sys, time; time.sleep(float(pathlib.Path(sys.argv[2]).read_text())); sys.exit(3)"


@pytest.fixture
def marker() -> str:
    return f"supervisor-test-{uuid.uuid4().hex[:12]}"


def left_running(marker: str) -> list[str]:
    """The command lines ``ps`` shows with ``marker``, zombies aside."""
    listing = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if marker in line and not line.lstrip().startswith("Z")]


def none_left(marker: str, grace: float = 3.0) -> bool:
    """No process with ``marker`` within ``grace`` seconds: a grandchild killed with its group takes a moment to
    die, and no one can wait for it but its parent."""
    deadline = time.monotonic() + grace
    while left_running(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def spec(name: str, code: str, marker: str, *extra: str, **options: object) -> ProcessSpec:
    return ProcessSpec(name, [sys.executable, "-c", code, marker, *extra], **options)  # type: ignore[arg-type]


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def supervisor(tmp_path: Path, marker: str) -> Iterator[Supervisor]:
    running = Supervisor(backoff=FAST, stop_timeout=2.0, log_path=tmp_path / "supervisor.log", poll_interval=0.02)
    try:
        yield running
    finally:
        running.stop()
        assert none_left(marker)


def test_the_delay_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(initial=1, factor=2, maximum=30)
    assert [backoff.delay(crashes) for crashes in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_exits_are_described_by_code_or_signal() -> None:
    assert describe_exit(3) == "code 3"
    assert describe_exit(-9) == "signal 9 (SIGKILL)"
    assert describe_exit(-15) == "signal 15 (SIGTERM)"


def test_a_killed_process_is_restarted_logged_and_the_others_keep_running(
    supervisor: Supervisor, marker: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.runtime.supervisor")
    supervisor.start_all([spec("one", SLEEP, marker), spec("two", SLEEP, marker)])
    other = supervisor.pid("two")
    killed = supervisor.kill("one")
    waited = supervisor.wait_restarted("one", killed, timeout=5)
    assert waited < 5  # 0.05 s of backoff, then a Python start-up
    assert supervisor.pid("one") != killed and supervisor.is_running("one")
    assert supervisor.pid("two") == other and supervisor.is_running("two")
    [crash] = supervisor.crashes
    assert (crash.name, crash.pid, crash.returncode, crash.restart_in, crash.crashes) == ("one", killed, -9, 0.05, 1)
    logged = (tmp_path / "supervisor.log").read_text(encoding="utf-8")
    assert f"one (pid {killed}) exited with signal 9 (SIGKILL) after running" in logged
    assert "restarting in 0.05 s (crash 1 in a row)" in logged
    assert f"one restarted (pid {supervisor.pid('one')}, restart 1)" in logged
    assert f"one is back (pid {supervisor.pid('one')}): serving again" in logged
    assert "exited with signal 9 (SIGKILL)" in caplog.text  # the same lines go to the logger (stderr in make run)


def test_consecutive_crashes_back_off_and_a_stable_run_resets_the_delay(
    supervisor: Supervisor, marker: str, tmp_path: Path
) -> None:
    lifetime = tmp_path / "lifetime"
    lifetime.write_text("0.02")
    supervisor.start(spec("flaky", LIFETIME, marker, str(lifetime)))
    wait_until(lambda: len(supervisor.crashes) >= 4)
    assert [crash.restart_in for crash in supervisor.crashes[:4]] == [0.05, 0.1, 0.2, 0.2]
    assert all(crash.returncode == 3 for crash in supervisor.crashes)
    lifetime.write_text("0.8")  # longer than stable_after: the next crash starts again from the first delay
    count = len(supervisor.crashes)
    wait_until(lambda: any(crash.ran_for >= 0.8 for crash in supervisor.crashes[count:]))
    stable = next(crash for crash in supervisor.crashes[count:] if crash.ran_for >= 0.8)
    assert (stable.restart_in, stable.crashes) == (0.05, 1)
    assert "flaky" in (tmp_path / "supervisor.log").read_text(encoding="utf-8")


def test_what_a_killed_process_left_in_its_group_is_killed_before_the_restart(
    supervisor: Supervisor, marker: str, tmp_path: Path
) -> None:
    child_pid = tmp_path / "child"
    supervisor.start(spec("parent", WITH_CHILD, marker, str(child_pid)))
    wait_until(child_pid.exists)
    orphan = int(child_pid.read_text())
    child_pid.unlink()
    killed = supervisor.kill("parent")
    supervisor.wait_restarted("parent", killed, timeout=5)
    wait_until(lambda: not alive(orphan), timeout=5)
    wait_until(child_pid.exists)
    assert alive(int(child_pid.read_text()))  # the new one's child
    supervisor.stop()
    assert none_left(marker)


def test_stop_ends_every_process_and_their_children(supervisor: Supervisor, marker: str, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.runtime.supervisor")
    supervisor.start_all([spec("a", WITH_CHILD, marker, str(tmp_path / "a")), spec("b", SLEEP, marker)])
    wait_until((tmp_path / "a").exists)
    assert len(left_running(marker)) == 3
    supervisor.stop()
    assert none_left(marker)
    assert supervisor.crashes == [] and supervisor.processes == {}
    assert caplog.text.index("b (pid") < caplog.text.index("a (pid")  # the last started stops first
    assert "stopped with signal 15 (SIGTERM)" in caplog.text


def test_stop_during_the_backoff_delay_starts_nothing_more(tmp_path: Path, marker: str) -> None:
    supervisor = Supervisor(backoff=Backoff(initial=30), log_path=tmp_path / "supervisor.log")
    supervisor.start(spec("slow-to-return", SLEEP, marker))
    supervisor.kill("slow-to-return")
    wait_until(lambda: len(supervisor.crashes) == 1)
    started = time.monotonic()
    supervisor.stop()
    assert time.monotonic() - started < 5  # not the 30 s of backoff
    time.sleep(0.3)
    assert none_left(marker)


def test_stop_while_a_process_is_starting(tmp_path: Path, marker: str) -> None:
    supervisor = Supervisor(log_path=tmp_path / "supervisor.log")
    supervisor.launch(spec("loading", WITH_CHILD, marker, str(tmp_path / "child"), ready=lambda: False))
    wait_until((tmp_path / "child").exists)
    started = time.monotonic()
    supervisor.stop()
    assert time.monotonic() - started < 5  # not the 20 s of the stop timeout
    assert none_left(marker)


def test_a_process_deaf_to_sigterm_is_killed_after_the_stop_timeout(tmp_path: Path, marker: str) -> None:
    supervisor = Supervisor(stop_timeout=0.5, log_path=tmp_path / "supervisor.log")
    supervisor.start(spec("deaf", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                  "time.sleep(600)", marker, ready=lambda: True))
    time.sleep(0.2)  # its handler is set
    supervisor.stop()
    assert none_left(marker)
    logged = (tmp_path / "supervisor.log").read_text(encoding="utf-8")
    assert "did not stop within 0.5 s; killed" in logged and "stopped with signal 9 (SIGKILL)" in logged


def test_a_process_that_fails_at_start_up_is_reported_not_restarted(supervisor: Supervisor, marker: str) -> None:
    with pytest.raises(RuntimeError, match="exited with code 2 after .* before it served"):
        supervisor.start_all([spec("fine", SLEEP, marker),
                              spec("broken", "import sys; sys.exit(2)", marker, ready=lambda: False)])
    assert supervisor.crashes == [] and supervisor.names == []  # and "fine" was stopped with it
    assert none_left(marker)


def test_a_process_that_never_serves_times_out_at_start_up(supervisor: Supervisor, marker: str) -> None:
    with pytest.raises(TimeoutError, match="mute did not serve within"):
        supervisor.start_all([spec("mute", SLEEP, marker, ready=lambda: False, start_timeout=0.3)])
    assert none_left(marker)


def test_slow_processes_start_together_and_are_waited_for_at_the_end(supervisor: Supervisor, marker: str,
                                                                     tmp_path: Path) -> None:
    flag = tmp_path / "ready"
    order: list[str] = []

    def slow_ready() -> bool:
        return flag.exists()

    def fast_ready() -> bool:
        order.append("fast checked")
        flag.touch()  # the slow one serves only once the fast one was started
        return True

    supervisor.start_all([spec("slow", SLEEP, marker, ready=slow_ready, wait_at_start=False),
                          spec("fast", SLEEP, marker, ready=fast_ready)])
    assert supervisor.is_ready("slow") and supervisor.is_ready("fast") and order


SCRIPT = """
import pathlib, sys, time
sys.path.insert(0, {root!r})
from bot.runtime.supervisor import Backoff, ProcessSpec, Supervisor, run_until_stopped

marker, out, mode = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
child = ("import pathlib, subprocess, sys, time; "
         "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', sys.argv[1]]); time.sleep(600)")
supervisor = Supervisor(backoff=Backoff(initial=30), stop_timeout=5)
specs = [ProcessSpec(name, [sys.executable, "-c", child, marker]) for name in ("a", "b")]
if mode == "starting":
    specs.append(ProcessSpec("c", [sys.executable, "-c", child, marker], ready=lambda: False, start_timeout=600))

def ready():
    if mode == "restarting":
        supervisor.kill("a")
        while not supervisor.crashes:
            time.sleep(0.01)
    out.write_text("ready")

if mode == "starting":
    supervisor.launch(specs[0])
    out.write_text("starting")
sys.exit(run_until_stopped(supervisor, lambda: supervisor.start_all(specs[1:] if mode == "starting" else specs),
                           ready))
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("mode", ["serving", "restarting", "starting"])
def test_a_signal_to_the_supervisor_stops_everything_and_leaves_no_process(
    tmp_path: Path, marker: str, sig: int, mode: str
) -> None:
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(SCRIPT.format(root=str(REPO_ROOT))), encoding="utf-8")
    out = tmp_path / "state"
    main = subprocess.Popen([sys.executable, str(script), marker, str(out), mode], cwd=tmp_path)
    try:
        wait_until(out.exists, timeout=20)
        # The script, and each process with its child: a killed one (and its child) waits for its restart; c is
        # starting.
        expected = 1 + {"serving": 4, "restarting": 2, "starting": 6}[mode]
        wait_until(lambda: len(left_running(marker)) == expected, timeout=10)
        time.sleep(0.2)
        os.kill(main.pid, sig)
        assert main.wait(timeout=20) == 0
    finally:
        if main.poll() is None:
            main.kill()
    assert none_left(marker)
