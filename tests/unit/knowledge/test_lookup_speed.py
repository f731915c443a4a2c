"""The cached, pruned look-up (bot/knowledge/lookup.py) finds what comparing every name finds, and stays fast."""

from __future__ import annotations

import difflib
import time

import pytest

from bot.diagnostic.questionnaire import load_questionnaire
from bot.diagnostic.text import normalise
from bot.knowledge import lookup as kb
from bot.knowledge.model import Catalogue, Entry, load_catalogue

# Misspellings, partial names and words that name nothing: the loose path down to difflib.
SUBJECTS = ("odd 17", "mecenat de competance", "impact colectif", "le rameau", "fondation de france", "bla bla",
            "partenariat strategique", "rnma", "alliance dynamique de la poste", "co construction", "xyz",
            "territoire zero chomeur", "les entreprises s engagent", "mooc", "guide pratique")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(load_questionnaire())


def every_name_compared(catalogue: Catalogue, subject: str) -> Entry | None:
    """The spelling step as it was: the first best ratio of all names, if at least MIN_NAME_SIMILARITY."""
    candidates = [(entry, name) for kind in kb.LOOKUP_KINDS for entry in catalogue.of(kind)
                  for name in kb.names_of(entry)]
    scored = [(difflib.SequenceMatcher(None, subject, name).ratio(), entry) for entry, name in candidates]
    best = max(scored, key=lambda item: item[0], default=None)
    return best[1] if best and best[0] >= kb.MIN_NAME_SIMILARITY else None


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_spelling_step_finds_what_comparing_every_name_finds(catalogue: Catalogue, subject: str) -> None:
    candidates = kb._candidates(catalogue, kb.LOOKUP_KINDS)
    assert kb._closest_spelling(normalise(subject), candidates) is every_name_compared(catalogue, normalise(subject))


def test_a_look_up_reads_names_computed_once(catalogue: Catalogue) -> None:
    kb.lookup(catalogue, "odd 17")
    started = time.process_time()
    for subject in SUBJECTS:
        kb.lookup(catalogue, normalise(subject), loose=False)
    # Before the cache: about 8 ms each on the 2-core machine (docs/performance.md); now well under 1 ms.
    assert (time.process_time() - started) / len(SUBJECTS) < 0.004
