"""Simulated users over Rasa's REST channel: conversation scripts, timed turns, and their summary.

Shared by the benchmarks (``bench.run``, ``bench.production``). Every loop is bounded in count and
time, and only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.usage import cpu_ms_per_turn, cpu_snapshot

REQUEST_TIMEOUT = 60.0  # seconds, one turn
LOAD_TAIL = 300.0  # seconds a load phase may run past its duration to finish its conversations
MAX_CONVERSATIONS_PER_USER = 500
MAX_ERROR_EXAMPLES = 10
SEED = 20240601
# What a failed phase raises (a bot down, a timeout, a failed subprocess); anything else is a bug and propagates.
PHASE_FAILURES = (OSError, RuntimeError, ValueError, asyncio.TimeoutError, subprocess.SubprocessError, aiohttp.ClientError)

RESULT_MARKER = "porte d'entrée"
# « C'est bon, voir mon résultat »: the result comes once the recap of the answers is confirmed.
CONFIRM_PAYLOAD = "/confirm_result"
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
TARGET_KNOWLEDGE_ADDED_MS = 10.0

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
# A diagnostic answered in words, one typed answer per question in the questionnaire's order (issue 14's
# free-text turn). Each is plain enough to be read without a doubt asked: if one were asked instead, the next
# answers would land on the wrong questions and the conversation would end without a result (an error).
TYPED_ANSWERS = (
    "nous sommes une association",
    "que des bénévoles, pas de salariés",
    "on agit dans notre quartier",
    "l'emploi et l'insertion professionnelle",
    "on a déjà fait quelques partenariats ponctuels",
    "surtout avec d'autres associations",
    "de manière informelle",
    "on ne mesure rien pour l'instant",
    "aucun moyen dédié",
    "non, jamais accompagnés",
    "répondre aux besoins de notre territoire",
    "des entreprises",
    "dans les six prochains mois",
)



def answer_payload(question_id: str, choice: str) -> str:
    """A questionnaire button payload (same format as tests/client.py)."""
    return "/answer" + json.dumps({"question_id": question_id, "choice": choice})


def diagnostic_answers(rng: random.Random) -> list[str]:
    """The 13 answers of one diagnostic, as button payloads, options drawn from ``rng``."""
    return [answer_payload(question_id, rng.choice(options)) for question_id, options in QUESTIONS]


def opening_turns(index: int) -> list[str]:
    """The greeting and the start of a sender's ``index``-th diagnostic. A sender keeps its answers after a result,
    so its later diagnostics begin with « Recommencer » (the result's button) rather than « /start_diagnostic »."""
    return ["bonjour", "/start_diagnostic" if index == 0 else RESTART_PAYLOAD]


def our_script(rng: random.Random, index: int) -> list[str]:
    """One complete diagnostic (16 turns: greeting, start, 13 answers, and « C'est bon » after the recap)."""
    return [*opening_turns(index), *diagnostic_answers(rng), CONFIRM_PAYLOAD]


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


@dataclass
class Sample:
    """Turn latencies and errors collected by one measurement."""

    latencies_ms: list[float] = field(default_factory=list)
    result_latencies_ms: list[float] = field(default_factory=list)  # the turns that gave the final marker
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
    elif bot.final_marker and said:
        sample.result_latencies_ms.append(sample.latencies_ms[-1])
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
        "result_turns": len(sample.result_latencies_ms),
        "result_p50_ms": percentile(sample.result_latencies_ms, 50),
        "errors": sample.errors,
        "error_examples": sample.error_examples,
    }
    if elapsed is not None:
        figures["seconds"] = elapsed
        figures["turns_per_s"] = len(sample.latencies_ms) / elapsed if elapsed > 0 else None
    return figures


