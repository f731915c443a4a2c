"""The on-disk cache of compiled regular expressions (bot/regex_cache.py): same patterns, faster start."""

from __future__ import annotations

import re
import sre_compile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import regex_cache

WORDS = [f"mot{index}-trait" for index in range(12_000)]
# Long enough to go through the cache, with named groups, a character class and a flag, like spaCy's.
LONG = r"(?P<word>" + "|".join(re.escape(word) for word in WORDS) + r")(?P<tail>[\w'’]*)"
SAMPLES = ["mot17-trait", "MOT11999-TRAIT’s", "mot12000-trait", "peut-être", "", "mot5-traitement", "xmot1-trait"]


def behaviour(pattern: re.Pattern[str]) -> list[object]:
    matches = [pattern.match(sample) for sample in SAMPLES]
    return [pattern.pattern == LONG, pattern.flags, pattern.groups, dict(pattern.groupindex),
            [match and (match.group(0), match.groupdict(), match.span()) for match in matches]]


@pytest.fixture
def cached_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(sre_compile, "compile", regex_cache.compile_with_cache(tmp_path))
    re.purge()  # re keeps its own in-memory cache of compiled patterns
    yield tmp_path
    re.purge()


def test_a_long_pattern_compiled_from_the_cache_behaves_as_pythons_own(cached_compile: Path) -> None:
    assert len(LONG) >= regex_cache.LONG_PATTERN
    header, code = regex_cache.compile_program(LONG, re.IGNORECASE)
    expected = behaviour(regex_cache.build(LONG, header, code))
    first = re.compile(LONG, re.IGNORECASE)  # compiled, then written
    [written] = list(cached_compile.glob("*.sre"))
    re.purge()
    second = re.compile(LONG, re.IGNORECASE)  # read back
    assert behaviour(first) == behaviour(second) == expected
    assert regex_cache.read(written) == (header | {"length": len(code)}, code)


def test_the_cached_program_is_the_one_python_compiles() -> None:
    header, code = regex_cache.compile_program(LONG, re.IGNORECASE)
    reference = sre_compile.compile(LONG, re.IGNORECASE)
    built = regex_cache.build(LONG, header, code)
    assert (built.flags, built.groups, built.groupindex) == (reference.flags, reference.groups, reference.groupindex)
    assert [built.match(sample) and built.match(sample).span() for sample in SAMPLES] == \
        [reference.match(sample) and reference.match(sample).span() for sample in SAMPLES]


def test_short_patterns_are_not_cached(cached_compile: Path) -> None:
    assert re.compile(r"\bcode\s+(\w{3})-?(\w{3})\b").match("code abc-234")
    assert not list(cached_compile.iterdir())


def test_a_damaged_cache_file_is_compiled_again_and_replaced(cached_compile: Path) -> None:
    re.compile(LONG)
    [written] = list(cached_compile.glob("*.sre"))
    intact = written.read_bytes()
    written.write_bytes(intact[: len(intact) // 2])  # cut short, as by a full disk
    re.purge()
    assert re.compile(LONG).match("mot42-trait")
    assert written.read_bytes() == intact
    written.write_bytes(b"not json\n" + intact)
    re.purge()
    assert re.compile(LONG).match("mot42-trait")
    assert written.read_bytes() == intact


def test_a_folder_that_cannot_be_written_only_costs_the_compilation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setattr(sre_compile, "compile", regex_cache.compile_with_cache(blocked / "regex-cache"))
    re.purge()
    try:
        assert re.compile(LONG).match("mot42-trait").group("word") == "mot42-trait"
    finally:
        re.purge()


def test_spacys_french_token_pattern_reads_the_same_from_the_cache(tmp_path: Path) -> None:
    from spacy.lang.fr.tokenizer_exceptions import TOKEN_MATCH

    shipped = TOKEN_MATCH.__self__
    assert len(shipped.pattern) >= regex_cache.LONG_PATTERN  # the pattern the cache is for
    compile_cached = regex_cache.compile_with_cache(tmp_path)
    compile_cached(shipped.pattern, 0)  # written; the pattern sets its own flags
    from_cache = compile_cached(shipped.pattern, 0)  # read
    words = ["peut-être", "aujourd'hui", "Saint-Étienne", "c'est-à-dire", "porte-parole", "anti-gaspi",
             "l'association", "ODD", "co-construction", "entre-temps", "rendez-vous", "2030"]
    assert [bool(from_cache.match(word)) for word in words] == [bool(shipped.match(word)) for word in words]
    assert any(from_cache.match(word) for word in words)
    assert (from_cache.flags, from_cache.groups) == (shipped.flags, shipped.groups)


def test_the_cache_is_used_only_inside_its_block(tmp_path: Path) -> None:
    shipped = sre_compile.compile
    re.purge()
    with regex_cache.compiling_with_cache(tmp_path):
        re.compile(LONG)
    re.purge()
    assert sre_compile.compile is shipped
    assert len(list(tmp_path.glob("*.sre"))) == 1
    re.compile(LONG + "x")  # outside the block: compiled as Python does, nothing written
    re.purge()
    assert len(list(tmp_path.glob("*.sre"))) == 1


def test_a_write_that_fails_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(regex_cache.os, "replace", disk_full)
    regex_cache.write(tmp_path / "program.sre", {"flags": 0}, [1, 2, 3])
    assert not list(tmp_path.iterdir())
