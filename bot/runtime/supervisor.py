"""Supervision of the processes of ``make run`` and production mode: restarted with backoff, logged, stopped cleanly.

One :class:`Supervisor` runs a list of :class:`ProcessSpec` (a name, a command, its environment and log file,
and how to tell that it serves). Each process has a watcher thread that starts it, waits until it serves,
then waits for it to exit:

- an exit nobody asked for (a crash, ``kill -9``) is logged (which process, its pid, exit code or signal, how
  long it ran, the next delay) and the process is started again after a delay that doubles at each
  consecutive crash (:class:`Backoff`: 0.2 s, 0.4 s, 0.8 s … 30 s), back to the first delay once the process has
  served :attr:`Backoff.stable_after` seconds; the other processes are left alone and keep serving;
- a process that exits before it ever served (a bad model, a port taken) is a start-up failure: it is not
  restarted, and :meth:`Supervisor.wait_ready` raises, so that ``make run`` stops with the error;
- :meth:`Supervisor.stop` (Ctrl-C, SIGTERM) stops every process, in the reverse order of their start, also
  one that is starting or waiting for its restart: SIGTERM, then SIGKILL after ``stop_timeout`` seconds.

Each process leads its own process group (``start_new_session``): Ctrl-C in a terminal reaches the
supervisor only, which stops the processes in order, and when a process dies whatever it left behind in its
group (nginx's workers after its master was killed) is killed before it is started again, so nothing is
left running (:func:`run_until_stopped` also takes SIGTERM and SIGHUP like Ctrl-C).

Plain Python with no knowledge of Rasa or HTTP: :mod:`.stack` and :mod:`.production` give the commands and
the readiness checks; tests/unit/runtime/test_supervisor.py drives it with tiny ``python -c`` processes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.runtime.processes import STOP_TIMEOUT

LOGGER = logging.getLogger(__name__)
POLL_INTERVAL = 0.2  # seconds between two readiness checks


@dataclass(frozen=True)
class Backoff:
    """Delays before a crashed process starts again: ``initial`` × ``factor`` per consecutive crash, at most
    ``maximum``; a process that served ``stable_after`` seconds before it crashed starts again after ``initial``."""

    # A process that served and then crashed is started again almost at once: a killed Rasa server is back
    # within 10 s (it loads its model in about 7). The doubling protects from a crash loop.
    initial: float = 0.2
    factor: float = 2.0
    maximum: float = 30.0
    stable_after: float = 30.0

    def delay(self, crashes: int) -> float:
        """The delay after the ``crashes``-th consecutive crash (1 for the first)."""
        return min(self.maximum, self.initial * self.factor ** max(0, crashes - 1))


@dataclass(frozen=True)
class ProcessSpec:
    """One supervised process.

    ``ready`` tells whether it serves (an HTTP check, a port that accepts); without it, a process serves as
    soon as it runs. ``start_timeout`` bounds the first start. ``wait_at_start``: at start-up the next processes
    wait until this one serves; False for slow ones (Rasa loads its model while the others start), which
    :meth:`Supervisor.start_all` waits for at the end. Output goes to ``log_path`` (appended), through
    ``output_filter`` when given (it copies the process's output to ``log_path``, in a thread), else to the
    supervisor's own output.
    """

    name: str
    command: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None
    output_filter: Callable[[IO[bytes], Path], None] | None = None
    ready: Callable[[], bool] | None = None
    start_timeout: float = 60.0
    wait_at_start: bool = True


@dataclass(frozen=True)
class Crash:
    """An exit nobody asked for, as logged."""

    name: str
    pid: int
    returncode: int
    ran_for: float  # seconds
    restart_in: float  # seconds
    crashes: int  # consecutive ones, this one included


def describe_exit(returncode: int) -> str:
    """``code 3`` or ``signal 9 (SIGKILL)``."""
    if returncode >= 0:
        return f"code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"
    return f"signal {-returncode} ({name})"


def _signal_group(pid: int, sig: int) -> None:
    """``sig`` to every process of the group ``pid`` leads; nothing if the group is gone."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _has_exited(process: subprocess.Popen) -> bool:
    """Whether ``process`` has exited, without reaping it (its pid, hence its group, stays reserved)."""
    if process.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped elsewhere (Popen.poll)
        return True


@dataclass
class _Supervised:
    spec: ProcessSpec
    process: subprocess.Popen | None = None
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)  # the watcher gave up or was stopped
    failure: str | None = None
    has_served: bool = False
    down_since: float | None = None
    restarts: int = 0


class Supervisor:
    """Starts, watches, restarts and stops a set of processes (see the module docstring)."""

    def __init__(self, backoff: Backoff | None = None, stop_timeout: float = STOP_TIMEOUT,
                 log_path: Path | None = None, poll_interval: float = POLL_INTERVAL) -> None:
        self.backoff = backoff or Backoff()
        self.stop_timeout = stop_timeout
        self.log_path = log_path
        self.poll_interval = poll_interval
        self.crashes: list[Crash] = []
        self._entries: dict[str, _Supervised] = {}
        self._order: list[str] = []  # start order; a process stopped then started again keeps its place
        self._lock = threading.Lock()

    # Logging ------------------------------------------------------------------------

    def _log(self, level: int, message: str) -> None:
        LOGGER.log(level, message)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            with self._lock, open(self.log_path, "a", encoding="utf-8") as log:
                log.write(f"{stamp} {logging.getLevelName(level)} {message}\n")

    # Starting -----------------------------------------------------------------------

    def launch(self, spec: ProcessSpec) -> None:
        """Start ``spec`` and watch it, without waiting until it serves."""
        with self._lock:
            if spec.name in self._entries:
                raise ValueError(f"{spec.name} is already supervised")
            entry = _Supervised(spec)
            self._entries[spec.name] = entry
            if spec.name not in self._order:
                self._order.append(spec.name)
        entry.thread = threading.Thread(target=self._watch, args=(entry,), name=f"supervise-{spec.name}", daemon=True)
        entry.thread.start()

    def wait_ready(self, name: str, timeout: float | None = None) -> None:
        """Wait until ``name`` serves; RuntimeError if it failed to start, TimeoutError after ``timeout`` s."""
        entry = self._entries[name]
        timeout = entry.spec.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not entry.ready.wait(min(0.2, max(0.0, deadline - time.monotonic()))):
            if entry.failure is not None:
                raise RuntimeError(f"{name} did not start: {entry.failure}")
            if entry.ended.is_set():
                raise RuntimeError(f"{name} was stopped before it served")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{name} did not serve within {timeout:.0f} s")

    def start(self, spec: ProcessSpec) -> None:
        """Start ``spec`` and wait until it serves."""
        self.launch(spec)
        self.wait_ready(spec.name)

    def start_all(self, specs: Iterable[ProcessSpec]) -> None:
        """Start ``specs`` in order, each waited for unless ``wait_at_start`` is False (waited for at the end);
        on any failure, stop them all and raise."""
        try:
            later = []
            for spec in specs:
                self.launch(spec)
                if spec.wait_at_start:
                    self.wait_ready(spec.name)
                else:
                    later.append((spec.name, time.monotonic() + spec.start_timeout))
            for name, deadline in later:
                self.wait_ready(name, max(0.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise

    # Watching -----------------------------------------------------------------------

    def _spawn(self, entry: _Supervised) -> subprocess.Popen | None:
        spec = entry.spec
        with entry.lock:
            if entry.stopping.is_set():
                return None
            log = None
            if spec.log_path is not None:
                spec.log_path.parent.mkdir(parents=True, exist_ok=True)
                log = open(spec.log_path, "ab")  # noqa: SIM115 - closed below, the process keeps its copy
            try:
                process = subprocess.Popen(
                    list(spec.command), cwd=spec.cwd, env=dict(spec.env) if spec.env is not None else None,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if spec.output_filter else log,
                    stderr=subprocess.STDOUT if (log or spec.output_filter) else None, start_new_session=True,
                )
            finally:
                if log is not None:
                    log.close()
            if spec.output_filter is not None and spec.log_path is not None:
                threading.Thread(target=spec.output_filter, args=(process.stdout, spec.log_path),
                                 name=f"{spec.name}-output", daemon=True).start()
            entry.process = process
            return process

    def _await_ready(self, entry: _Supervised, process: subprocess.Popen) -> None:
        check = entry.spec.ready
        while not _has_exited(process) and not entry.stopping.is_set():
            try:
                serving = check is None or check()
            except Exception:  # noqa: BLE001 - a failing check means « not yet »
                serving = False
            if serving:
                entry.has_served = True
                if entry.down_since is not None:  # logged before it is seen ready, so that a waiter finds the line
                    self._log(logging.WARNING, f"{entry.spec.name} is back (pid {process.pid}): serving again "
                                               f"{time.monotonic() - entry.down_since:.1f} s after it stopped")
                    entry.down_since = None
                entry.ready.set()
                return
            entry.stopping.wait(self.poll_interval)

    @staticmethod
    def _await_exit(process: subprocess.Popen) -> int:
        """Wait until ``process`` exits, kill what it left in its group, reap it; its exit code."""
        try:
            os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:  # reaped elsewhere
            pass
        _signal_group(process.pid, signal.SIGKILL)
        return process.wait()

    def _watch(self, entry: _Supervised) -> None:
        name, crashes = entry.spec.name, 0
        try:
            while not entry.stopping.is_set():
                try:
                    process = self._spawn(entry)
                except OSError as error:
                    if not entry.has_served:
                        entry.failure = f"could not be started: {error}"
                        self._log(logging.ERROR, f"{name} {entry.failure}")
                        return
                    crashes += 1
                    delay = self.backoff.delay(crashes)
                    self._log(logging.ERROR, f"{name} could not be restarted ({error}); next try in {delay:g} s")
                    entry.stopping.wait(delay)
                    continue
                if process is None:
                    return
                started = time.monotonic()
                if entry.restarts:
                    self._log(logging.WARNING, f"{name} restarted (pid {process.pid}, restart {entry.restarts})")
                self._await_ready(entry, process)
                served_from = time.monotonic() if entry.ready.is_set() else None
                returncode = self._await_exit(process)
                now = time.monotonic()
                entry.ready.clear()
                if entry.stopping.is_set():
                    return
                if not entry.has_served:
                    entry.failure = f"exited with {describe_exit(returncode)} after {now - started:.1f} s, before it served"
                    self._log(logging.ERROR, f"{name} (pid {process.pid}) {entry.failure}; not restarted")
                    return
                served = now - served_from if served_from is not None else 0.0
                crashes = 1 if served >= self.backoff.stable_after else crashes + 1
                delay = self.backoff.delay(crashes)
                entry.down_since = entry.down_since or now
                entry.restarts += 1
                crash = Crash(name, process.pid, returncode, now - started, delay, crashes)
                self.crashes.append(crash)
                self._log(logging.WARNING, f"{name} (pid {process.pid}) exited with {describe_exit(returncode)} after "
                                           f"running {crash.ran_for:.1f} s; restarting in {delay:g} s "
                                           f"(crash {crashes} in a row)")
                entry.stopping.wait(delay)
        finally:
            entry.ended.set()

    # Looking at the processes ---------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [name for name in self._order if name in self._entries]

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        """The current process of each supervised name (possibly one that just exited)."""
        return {name: entry.process for name in self.names
                if (entry := self._entries[name]).process is not None}

    def pid(self, name: str) -> int | None:
        process = self._entries[name].process
        return process.pid if process is not None else None

    def is_ready(self, name: str) -> bool:
        return self._entries[name].ready.is_set()

    def is_running(self, name: str) -> bool:
        process = self._entries[name].process
        return process is not None and not _has_exited(process)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to the process ``name`` (as ``kill -9 <pid>`` would); its pid. The supervisor restarts it."""
        process = self._entries[name].process
        if process is None:
            raise RuntimeError(f"{name} has no process")
        process.send_signal(sig)
        return process.pid

    def wait_restarted(self, name: str, old_pid: int, timeout: float) -> float:
        """Wait until ``name`` serves again with a pid other than ``old_pid``; the seconds waited."""
        started = time.monotonic()
        entry = self._entries[name]
        while time.monotonic() - started < timeout:
            if entry.ready.is_set() and entry.process is not None and entry.process.pid != old_pid:
                return time.monotonic() - started
            if entry.ended.is_set():
                raise RuntimeError(f"{name} is no longer supervised: {entry.failure or 'stopped'}")
            time.sleep(0.05)
        raise TimeoutError(f"{name} was not back within {timeout:.0f} s")

    # Stopping -----------------------------------------------------------------------

    def stop(self, names: Iterable[str] | None = None) -> None:
        """Stop ``names`` (default: every process, the last started first) and forget them. No restart happens
        once this is called, also for a process that is starting or waiting for its restart."""
        chosen = set(self.names if names is None else names)
        entries = [self._entries[name] for name in reversed(self.names) if name in chosen]
        for entry in entries:  # first: no restart anywhere while the others stop
            entry.stopping.set()
        for entry in entries:
            self._stop_entry(entry)
            with self._lock:
                self._entries.pop(entry.spec.name, None)

    def _stop_entry(self, entry: _Supervised) -> None:
        with entry.lock:  # no spawn in progress: the process, if any, is this one
            process = entry.process
        started = time.monotonic()
        running = process is not None and not _has_exited(process)
        if running:
            _signal_group(process.pid, signal.SIGTERM)
        if entry.thread is not None:
            entry.thread.join(self.stop_timeout)
            if entry.thread.is_alive() and process is not None:
                self._log(logging.WARNING, f"{entry.spec.name} (pid {process.pid}) did not stop within "
                                           f"{self.stop_timeout:g} s; killed")
                _signal_group(process.pid, signal.SIGKILL)
                entry.thread.join(self.stop_timeout)
        if process is not None:
            returncode = process.wait(timeout=self.stop_timeout)
        if running:
            self._log(logging.INFO, f"{entry.spec.name} (pid {process.pid}) stopped with {describe_exit(returncode)} "
                                    f"in {time.monotonic() - started:.1f} s")


def run_until_stopped(supervisor: Supervisor, start: Callable[[], object], on_ready: Callable[[], None]) -> int:
    """``start()``, ``on_ready()``, then serve until Ctrl-C, SIGTERM or SIGHUP, and stop every process either way
    (also when ``start`` fails, which is raised). 0 after a signal.

    Once stopping, further signals are ignored, so that a second Ctrl-C cannot leave a process behind.
    """

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    try:
        start()
        on_ready()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        supervisor.stop()


def log_to_stderr() -> None:
    """The supervisor's messages on the standard error, with the time (``make run``, ``make run-prod``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s supervisor %(levelname)s: %(message)s", "%H:%M:%S"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
