"""Benchmark of the assistant against a stock ``rasa init`` bot, in one run.

``.venv/bin/python -m bench.run [--users 1,5,20] [--quick]`` (from the repository root)
starts both bots on their own ports with throw-away databases and measures, with
client-side timings over Rasa's REST channel:

- single user: per-turn latency p50 / p95 (and Rasa's ``/model/parse`` alone, to
  separate the NLU from the rest of a turn);
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
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

from bot.runtime.processes import DEFAULT_MODEL, QUIET_ENV, terminate, wait_for
from bot.runtime.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench" / "results"
LOG_DIR = RESULTS_DIR / "logs"
STOCK_DIR = ROOT / ".cache" / "stock_bot"

OUR_PORTS = (25005, 25055, 28000)  # Rasa, action server, web app
COLD_PORTS = (25006, 25056, 28001)  # the stack started only to time its cold start
STOCK_PORT = 25105
STOCK_URL = f"http://127.0.0.1:{STOCK_PORT}"


REQUEST_TIMEOUT = 60.0  # seconds, one turn
START_TIMEOUT = 180.0  # seconds, one bot until it answers /status
FIRST_REPLY_TIMEOUT = 120.0
INIT_TIMEOUT = 1800.0  # `rasa init` (trains the moodbot)
TRAIN_TIMEOUT = 3600.0
LOADER_TIMEOUT = 300.0
LOAD_TAIL = 300.0  # seconds a load phase may run past its duration to finish its conversations
MAX_CONVERSATIONS_PER_USER = 500
MAX_ERROR_EXAMPLES = 10
SEED = 20240601
# What a failed phase raises (a bot down, a timeout, a failed subprocess); anything else is a bug and propagates.
PHASE_FAILURES = (OSError, RuntimeError, ValueError, asyncio.TimeoutError, subprocess.SubprocessError, aiohttp.ClientError)

LONG_DIAGNOSTICS = 8
LONG_WINDOW = 30  # turns compared at the start and at the end of the long conversation

TARGET_LONG_RATIO = 1.3
TARGET_COLD_START_S = 90.0
TARGET_MEMORY_MIB = 2.5 * 1024

RESULT_MARKER = "porte d'entrée"
# The result's « Recommencer » button (actions/results.py). Not « /restart »: that is Rasa's built-in intent, whose
# default action_restart (no reply, new session) overrules any rule.
RESTART_PAYLOAD = "/restart_diagnostic"
# Knowledge phase: each question is timed against the greeting turn just before it.
KNOWLEDGE_BASELINE = "bonjour"
KNOWLEDGE_QUESTIONS = (
    "c'est quoi l'ODD 17 ?",
    "un exemple d'alliance sur le bien vieillir en milieu rural",
    "quels outils pour l'engagement des salariés ?",
    "combien de partenariats en France ?",
    "vers qui me tourner pour être accompagné ?",
)
KNOWLEDGE_ROUNDS = 6
TARGET_KNOWLEDGE_ADDED_MS = 20.0

# The moodbot's intents, in an order its stories and rules answer (every turn gets a reply).
MOOD_TURNS = (
    "hello", "I am sad", "yes", "great", "bye",
    "hi", "I am feeling very good", "are you a bot?", "good morning", "I am very sad",
    "no", "hey there", "are you a human?", "perfect", "goodbye",
)  # fmt: skip

# The questionnaire's public contract (shared/design/questionnaire.md): question id -> option ids.
QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("actor_type", ("association", "entreprise", "collectivite", "fondation", "accompagnement", "autre")),
    ("size", ("benevole", "tpe", "pme", "grande")),
    ("scale", ("local", "departement", "region", "national")),
    ("theme", ("emploi", "jeunesse", "sante", "lien_social", "environnement", "logement", "economie", "autre")),
    ("experience", ("aucun", "ponctuel", "habitude", "alliance")),
    ("partners", ("aucun", "associations", "publics", "entreprises", "plusieurs")),
    ("organisation", ("informel", "convention", "gouvernance", "vision")),
    ("evaluation", ("non", "bilan", "indicateurs", "impact")),
    ("resources", ("aucun", "temps", "referent", "equipe")),
    ("support", ("non", "connait", "accompagne", "accompagnateur")),
    ("goal", ("territoire", "innovation", "salaries", "odd")),
    ("partners_wanted", ("associations", "entreprises", "publics", "tous")),
    ("horizon", ("court", "moyen", "long")),
)
FREE_TEXT = {"stock": "I am feeling really sad today", "ours": "nous sommes une association de quartier, que des bénévoles"}


# --- Conversation scripts ---------------------------------------------------------------


def answer_payload(question_id: str, choice: str) -> str:
    """A questionnaire button payload (same format as tests/client.py)."""
    return "/answer" + json.dumps({"question_id": question_id, "choice": choice})


def diagnostic_answers(rng: random.Random) -> list[str]:
    """The 13 answers of one diagnostic, as button payloads, options drawn from ``rng``."""
    return [answer_payload(question_id, rng.choice(options)) for question_id, options in QUESTIONS]


def our_script(rng: random.Random, index: int) -> list[str]:
    """One complete diagnostic (15 turns). A sender keeps its answers after a result, so its later diagnostics
    begin with « Recommencer » (the result's button) rather than « /start_diagnostic »."""
    opening = "/start_diagnostic" if index == 0 else RESTART_PAYLOAD
    return ["bonjour", opening, *diagnostic_answers(rng)]


def stock_script(rng: random.Random, index: int) -> list[str]:
    """The fixed moodbot conversation (15 turns)."""
    return list(MOOD_TURNS)


@dataclass(frozen=True)
class Bot:
    """A bot under test: where it answers, what a simulated user says, how a conversation must end."""

    key: str
    rasa_url: str
    script: Callable[[random.Random, int], list[str]]
    final_marker: str | None = None
    pids: dict[str, int] = field(default_factory=dict)  # process name -> pid, for CPU time per turn
    api_token: str = ""  # Rasa's HTTP API token (ours requires one; the stock bot runs without)


# --- Measuring turns --------------------------------------------------------------------


@dataclass
class Sample:
    """Turn latencies and errors collected by one measurement."""

    latencies_ms: list[float] = field(default_factory=list)
    conversations: int = 0
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_examples) < MAX_ERROR_EXAMPLES:
            self.error_examples.append(message)


def percentile(values: Sequence[float], q: int) -> float | None:
    """The q-th percentile (1–99) of ``values``; None when there is nothing to measure."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def reply_text(messages: list[dict[str, Any]]) -> str:
    """Everything the user reads in a reply."""
    return "\n".join(str(message.get("text") or "") for message in messages)


async def post_json(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[float, Any]:
    """POST ``body``; return (latency in ms, decoded JSON). Raises on a transport error or a non-200 status."""
    started = time.perf_counter()
    async with session.post(url, json=body) as response:
        content = await response.json(content_type=None)
        if response.status != 200:
            raise aiohttp.ClientResponseError(response.request_info, (), status=response.status, message=str(content))
    return (time.perf_counter() - started) * 1000, content


async def turn(session: aiohttp.ClientSession, bot: Bot, sender: str, text: str, sample: Sample) -> str | None:
    """Send one message, timing it; return what the user reads (None after a transport error)."""
    try:
        latency, reply = await post_json(session, f"{bot.rasa_url}/webhooks/rest/webhook",
                                         {"sender": sender, "message": text})
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        sample.error(f"{bot.key} {sender} {text!r}: {type(exc).__name__} {exc}")
        return None
    sample.latencies_ms.append(latency)
    said = reply_text(reply if isinstance(reply, list) else [])
    if not said.strip():
        sample.error(f"{bot.key} {text!r}: empty reply")
    return said


async def converse(session: aiohttp.ClientSession, bot: Bot, sender: str, messages: list[str], sample: Sample) -> None:
    """Send one conversation, timing each turn; a transport error ends the conversation."""
    said: str | None = None
    for text in messages:
        said = await turn(session, bot, sender, text, sample)
        if said is None:
            return
    if bot.final_marker and said and bot.final_marker not in said:
        sample.error(f"{bot.key}: no « {bot.final_marker} » in the last reply: {said[:200]!r}")
    sample.conversations += 1


def user_random(sender: str) -> random.Random:
    """The answers' random source of a simulated user: the same from run to run (the run id is left out)."""
    prefix, _run_id, rest = sender.split("-", 2)
    return random.Random(f"{SEED}-{prefix}-{rest}")


async def simulate_user(
    session: aiohttp.ClientSession, bot: Bot, sender: str, deadline: float, conversations: int, sample: Sample
) -> None:
    """One user: complete conversations until ``conversations`` are done or ``deadline`` passed (at least one)."""
    rng = user_random(sender)
    for index in range(min(conversations, MAX_CONVERSATIONS_PER_USER)):
        if index and time.monotonic() >= deadline:
            return
        await converse(session, bot, sender, bot.script(rng, index), sample)


def new_session(users: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=users + 4)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))


async def run_users(bot: Bot, senders: list[str], duration: float, conversations: int) -> tuple[Sample, float]:
    """Run one simulated user per sender at once; return the sample and the wall time in seconds."""
    sample = Sample()
    deadline = time.monotonic() + duration
    async with new_session(len(senders)) as session:
        started = time.perf_counter()
        users = [simulate_user(session, bot, sender, deadline, conversations, sample) for sender in senders]
        try:
            await asyncio.wait_for(asyncio.gather(*users), timeout=duration + LOAD_TAIL)
        except asyncio.TimeoutError:
            sample.error(f"{bot.key}: the users did not finish within {duration + LOAD_TAIL:.0f} s")
        elapsed = time.perf_counter() - started
    return sample, elapsed


def measure_users(bot: Bot, senders: list[str], duration: float, conversations: int) -> dict[str, Any]:
    """Run simulated users (see :func:`run_users`); their figures, with the bot's CPU time per turn."""
    before = cpu_snapshot(bot.pids)
    sample, elapsed = asyncio.run(run_users(bot, senders, duration, conversations))
    figures = summary(sample, elapsed)
    figures["cpu_ms_per_turn"] = cpu_ms_per_turn(before, cpu_snapshot(bot.pids), len(sample.latencies_ms))
    return figures


async def time_parses(rasa_url: str, texts: Sequence[str], rounds: int, token: str = "") -> list[float]:
    """Latencies (ms) of Rasa's ``/model/parse`` (NLU alone) on ``texts``, ``rounds`` times each."""
    latencies: list[float] = []
    async with new_session(1) as session:
        for _ in range(rounds):
            for text in texts:
                latency, _parse = await post_json(session, f"{rasa_url}/model/parse?token={token}", {"text": text})
                latencies.append(latency)
    return latencies


def summary(sample: Sample, elapsed: float | None = None) -> dict[str, Any]:
    """The figures of a sample (latencies in ms)."""
    figures: dict[str, Any] = {
        "turns": len(sample.latencies_ms),
        "conversations": sample.conversations,
        "p50_ms": percentile(sample.latencies_ms, 50),
        "p95_ms": percentile(sample.latencies_ms, 95),
        "max_ms": max(sample.latencies_ms, default=None),
        "errors": sample.errors,
        "error_examples": sample.error_examples,
    }
    if elapsed is not None:
        figures["seconds"] = elapsed
        figures["turns_per_s"] = len(sample.latencies_ms) / elapsed if elapsed > 0 else None
    return figures


# --- Processes --------------------------------------------------------------------------


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **QUIET_ENV, **(extra or {})}


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def busy_ports(ports: Sequence[int]) -> list[int]:
    return [port for port in ports if port_in_use(port)]


def stop_process(process: subprocess.Popen) -> None:
    """Stop a process started here and the process group it leads (`rasa` starts children)."""
    terminate(process, group=True)


def run_logged(command: list[str], log_name: str, cwd: Path, env: dict[str, str], timeout: float) -> float:
    """Run a command to completion, output to a log file; return its wall time in seconds."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(LOG_DIR / log_name, "ab") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        finally:
            stop_process(process)
    if code != 0:
        raise RuntimeError(f"{' '.join(command[:3])}… exited with code {code} (see {LOG_DIR / log_name})")
    return time.perf_counter() - started


def stock_model_exists() -> bool:
    return any((STOCK_DIR / "models").glob("*.tar.gz"))


def ensure_stock_bot() -> float | None:
    """Create and train the stock moodbot once; return the seconds it took, None when it already existed."""
    if stock_model_exists():
        return None
    STOCK_DIR.mkdir(parents=True, exist_ok=True)  # `rasa init --no-prompt` refuses a missing folder
    seconds = run_logged([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
                         "stock_init.log", ROOT, environment(), INIT_TIMEOUT)
    if not stock_model_exists():
        raise RuntimeError(f"`rasa init` left no model in {STOCK_DIR / 'models'}")
    return seconds


def first_reply_seconds(rasa_url: str, message: str, started: float) -> float:
    """Send one message; return the seconds since ``started`` (perf_counter) once a non-empty reply arrives."""
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": f"bench-cold-{os.getpid()}-{time.time_ns()}", "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    # The URL is built by this script from a 127.0.0.1 address (http only): bandit's B310 does not apply.
    with urllib.request.urlopen(request, timeout=FIRST_REPLY_TIMEOUT) as response:  # nosec B310
        reply = json.loads(response.read())
    if not reply_text(reply).strip():
        raise RuntimeError(f"empty first reply to {message!r} from {rasa_url}")
    return time.perf_counter() - started


@contextmanager
def stock_bot(startup: dict[str, Any]) -> Iterator[subprocess.Popen]:
    """Run the stock bot (``rasa run --enable-api``); fill ``startup`` with its start-up times; yield the process."""
    url = STOCK_URL
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    command = [str(VENV_BIN / "rasa"), "run", "--enable-api", "-p", str(STOCK_PORT)]
    with open(LOG_DIR / "stock_rasa.log", "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=STOCK_DIR, env=environment(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_for(f"{url}/status", START_TIMEOUT, process)
            startup["ready_s"] = time.perf_counter() - started
            startup["first_reply_s"] = first_reply_seconds(url, "hello", started)
            yield process
        finally:
            stop_process(process)


def load_database(env: dict[str, str]) -> float:
    """Create and fill the project database named in ``env`` (``python -m bot.store.loader``); return seconds."""
    return run_logged([sys.executable, "-m", "bot.store.loader"], "loader.log", ROOT, environment(env), LOADER_TIMEOUT)


def stack_env(data_dir: Path) -> dict[str, str]:
    return {
        **QUIET_ENV,
        "DATABASE_URL": f"sqlite:///{data_dir / 'alliance.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{data_dir / 'tracker.db'}",
    }


def make_stack(ports: tuple[int, int, int], data_dir: Path, model: Path) -> Stack:
    rasa_port, action_port, web_port = ports
    return Stack(rasa_port=rasa_port, action_port=action_port, web_port=web_port, model=model, run_dir=data_dir,
                 env=stack_env(data_dir), log_dir=LOG_DIR)


@contextmanager
def our_stack(model: Path, startup: dict[str, Any], ports: tuple[int, int, int] = OUR_PORTS) -> Iterator[Stack]:
    """Our three processes on ``ports`` with fresh databases; yield the started stack.

    ``startup`` receives the seconds of the database load, until ready, and until the first reply.
    """
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as folder:
        data_dir = Path(folder)
        startup["loader_s"] = load_database(stack_env(data_dir))
        stack = make_stack(ports, data_dir, model)
        started = time.perf_counter()
        try:
            stack.start()
            startup["ready_s"] = time.perf_counter() - started
            startup["first_reply_s"] = first_reply_seconds(stack.rasa_url, "bonjour", started)
            yield stack
        finally:
            stack.stop()


def measure_cold_start(model: Path) -> dict[str, float]:
    """Seconds from Stack.start (fresh ports and databases) to the stack ready and to the first reply."""
    figures: dict[str, float] = {}
    with our_stack(model, figures, COLD_PORTS):
        pass
    return figures


def measure_training() -> float:
    """Wall time (s) of a forced ``rasa train`` of our assistant, into a throw-away folder and cache."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as folder:
        command = [str(VENV_BIN / "rasa"), "train", "--config", "config.yml", "--domain", "domain.yml",
                   "--data", "data/rasa", "--out", folder, "--force"]
        env = environment({"RASA_CACHE_DIRECTORY": str(Path(folder) / "cache")})
        return run_logged(command, "train.log", ROOT, env, TRAIN_TIMEOUT)


def descendants(pid: int, limit: int = 1000) -> set[int]:
    """The process ids below ``pid`` (via /proc/<pid>/task/*/children), at most ``limit``."""
    found: set[int] = set()
    pending = [pid]
    while pending and len(found) < limit:
        current = pending.pop()
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except OSError:
                continue
            for child in pids:
                if child not in found and child != pid:
                    found.add(child)
                    pending.append(child)
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    return sum(rss_kib(member) for member in {pid, *descendants(pid)}) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process tree."""
    return {name: sum(cpu_seconds(member) for member in {pid, *descendants(pid)}) for name, pid in pids.items()}


def cpu_ms_per_turn(before: dict[str, float], after: dict[str, float], turns: int) -> dict[str, float | None]:
    return {name: (after[name] - before[name]) * 1000 / turns if turns else None for name in before}


# --- The report -------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the report: a figure for each bot, and the target when there is one."""

    section: str
    figure: str
    stock: float | str | None = None  # a figure, or a short text (e.g. a series of figures)
    ours: float | str | None = None
    target: str = ""
    met: bool | None = None


def fmt(value: float | str | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def markdown(header: dict[str, Any], rows: list[Row]) -> str:
    lines = [
        f"## Benchmark {header['date']}",
        "",
        (
            f"nproc {header['nproc']} · CPU {header['cpu_model']} · load average at start {header['loadavg_start']}"
            f" · at end {header['loadavg_end']} · {options_line(header['options'])}"
        ),
        "",
        "| Section | Figure | Stock `rasa init` bot | Our assistant | Target | Met? |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in rows:
        met = "" if row.met is None else "met" if row.met else "**not met**"
        lines.append(f"| {row.section} | {row.figure} | {fmt(row.stock)} | {fmt(row.ours)} | {row.target} | {met} |")
    return "\n".join(lines)


def options_line(options: dict[str, Any]) -> str:
    users = ",".join(str(count) for count in options["users"])
    quick = " · --quick (no training)" if options["quick"] else ""
    return f"users {users} · {options['duration_s']:.0f} s per load phase{quick}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- The run ----------------------------------------------------------------------------


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
        section = f"Single user ({self.single_conversations} conversations × 15 turns)"
        for name, label in (("p50_ms", "turn p50 (ms)"), ("p95_ms", "turn p95 (ms)"),
                            ("parse_script_p50_ms", "`/model/parse` p50 of the same messages (ms)"),
                            ("parse_free_text_p50_ms", "`/model/parse` p50 of a free-text sentence (ms)"),
                            ("errors", "errors")):
            self.add(section, label, figures.get("stock", {}).get(name), figures.get("ours", {}).get(name))
        for process in ("rasa", "actions"):
            cpu = [figures.get(key, {}).get("cpu_ms_per_turn", {}).get(process) for key in ("stock", "ours")]
            self.add(section, f"CPU time per turn, `{process}` process (ms)", *cpu)

    def parse_figures(self, bot: Bot) -> dict[str, float | None]:
        """Median latency of NLU alone: on the conversation's own messages, and on a free-text sentence."""
        texts = bot.script(random.Random(SEED), 0)
        script = self.guarded(f"parse ({bot.key})", lambda: asyncio.run(time_parses(bot.rasa_url, texts, 3, bot.api_token)))
        free = self.guarded(f"parse ({bot.key})", lambda: asyncio.run(
            time_parses(bot.rasa_url, [FREE_TEXT[bot.key]], 10, bot.api_token)))
        return {"parse_script_p50_ms": median(script or []), "parse_free_text_p50_ms": median(free or [])}

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

    def memory(self, stack: Stack | None, stock: subprocess.Popen | None) -> None:
        """Resident memory (MiB) of each process tree, read right after the load."""
        ours = {name: tree_rss_mib(process.pid) for name, process in (stack.processes if stack else {}).items()}
        stock_mib = tree_rss_mib(stock.pid) if stock else None
        total = sum(ours.values()) if ours else None
        self.raw["memory_mib"] = {"ours": ours, "ours_total": total, "stock": stock_mib}
        section = "Memory after the load (VmRSS)"
        met = None if total is None else total <= TARGET_MEMORY_MIB
        self.add(section, "total of the bot's processes (MiB)", stock_mib, total, "≤ 2560 MiB (2.5 GiB)", met)
        for name, mib in ours.items():
            self.add(section, f"our `{name}` process (MiB)", None, mib)

    def long_conversation(self, bot: Bot) -> None:
        """One sender, ``LONG_DIAGNOSTICS`` diagnostics in a row: are the last turns slower than the first?"""
        sender = self.sender(bot, "long")
        rng = user_random(sender)
        scripts = [our_script(rng, 0)] + [[RESTART_PAYLOAD, *diagnostic_answers(rng)] for _ in range(LONG_DIAGNOSTICS - 1)]
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
            self.add("Training", "`rasa train --force` wall time (s)", None, training)
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


def write_json(report: dict[str, Any], name: str) -> Path:
    """Write ``report`` to bench/results/<name>.json; return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


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
