"""Search relevance on the labelled set: hit rate at 3, semantic ranking against plain keywords.

The figures are written to tests/output/search_relevance.json (quoted in docs/knowledge.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from bot.diagnostic.questionnaire import load_questionnaire
from bot.knowledge.model import Catalogue, load_catalogue
from bot.knowledge.search import SearchIndex, keyword_search

LABELLED = Path(__file__).resolve().parents[2] / "knowledge" / "search_relevance.yml"
REPORT = Path(__file__).resolve().parents[2] / "output" / "search_relevance.json"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(load_questionnaire())


def test_semantic_search_beats_keywords_at_3(catalogue: Catalogue) -> None:
    queries = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["queries"]
    assert len(queries) >= 30
    indexes: dict[tuple[str, ...], SearchIndex] = {}
    semantic_hits = keyword_hits = 0
    timings = []
    misses = []
    for item in queries:
        kinds = tuple(item["kinds"])
        entries = [entry for kind in kinds for entry in catalogue.of(kind)]
        index = indexes.setdefault(kinds, SearchIndex(entries))
        started = time.perf_counter()
        top = [hit.entry.id for hit in index.search(item["query"], limit=3)]
        timings.append(time.perf_counter() - started)
        baseline = [hit.entry.id for hit in keyword_search(entries, item["query"], limit=3)]
        relevant = set(item["relevant"])
        semantic_hits += bool(relevant & set(top))
        keyword_hits += bool(relevant & set(baseline))
        if not relevant & set(top):
            misses.append({"query": item["query"], "top3": top, "relevant": sorted(relevant)})
    semantic, keyword = semantic_hits / len(queries), keyword_hits / len(queries)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({
        "queries": len(queries), "semantic_hit_at_3": round(semantic, 3), "keyword_hit_at_3": round(keyword, 3),
        "median_query_ms": round(1000 * sorted(timings)[len(timings) // 2], 2), "misses": misses,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"hit@3: semantic {semantic:.0%}, keywords {keyword:.0%} on {len(queries)} queries")
    assert semantic > keyword


def test_a_place_named_in_the_data_filters_the_results(catalogue: Catalogue) -> None:
    index = SearchIndex(catalogue.of("example"))
    places = index.known_places
    assert places, "no place names in the examples"
    place = places[0]
    hits = index.search(f"des exemples à {place}")
    assert hits and all(place in {p for p in index.places[index.entries.index(hit.entry)]} for hit in hits)


def test_vague_queries_are_recognised(catalogue: Catalogue) -> None:
    index = SearchIndex(catalogue.of("tool"))
    assert index.is_vague("voir des exemples")
    assert not index.is_vague("bien vieillir en milieu rural")
