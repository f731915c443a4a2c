"""Compiled programs of very long regular expressions, kept on disk from one start of a process to the next.

spaCy's French tokenizer matches hyphenated and elided words (« peut-être », « aujourd'hui ») with one
regular expression of 1.45 million characters. Python compiles a regular expression in pure Python
(``sre_compile``): 2.7 s of every Rasa server start on this machine, a fifth of the time a killed server
takes to come back (docs/performance.md). The compiled program is a list of integers that depends only on
the pattern, its flags and the Python version, so it is saved once and read back at the next start, then
handed to ``_sre.compile`` exactly as ``sre_compile.compile`` would hand it. Patterns shorter than
:data:`LONG_PATTERN` (all but this one) compile as before. A cache file that is missing, unreadable or
written for another Python is ignored and written again; a read-only folder only costs the compilation.

Used by the Rasa launcher (:mod:`bot.runtime.rasa_launcher`, for the whole process) and by the action
server's search index (:mod:`bot.knowledge.search`, while spaCy loads). Standard library only: every package
may import it.
"""

from __future__ import annotations

import _sre
import hashlib
import json
import os
import sre_compile
import sre_parse
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Patterns at least this long go through the cache.
LONG_PATTERN = 100_000
# What a compiled program depends on besides the pattern: the interpreter (its opcodes) and the code width.
_FORMAT = f"{sys.version}|{_sre.MAGIC}|{_sre.CODESIZE}"
_CODE_TYPECODE = "I" if _sre.CODESIZE == 4 else "H"


def cache_file(folder: Path, pattern: str, flags: int) -> Path:
    key = hashlib.sha256(f"{_FORMAT}|{int(flags)}|".encode() + pattern.encode("utf-8", "surrogatepass")).hexdigest()
    return folder / f"{key}.sre"


def compile_program(pattern: str, flags: int) -> tuple[dict[str, Any], list[int]]:
    """What ``sre_compile.compile`` computes before it calls ``_sre.compile``: the header and the program."""
    parsed = sre_parse.parse(pattern, flags)
    code = sre_compile._code(parsed, flags)  # type: ignore[attr-defined]
    group_index = dict(parsed.state.groupdict)
    index_group: list[str | None] = [None] * parsed.state.groups
    for name, index in group_index.items():
        index_group[index] = name
    header = {"flags": int(flags | parsed.state.flags), "groups": parsed.state.groups - 1,
              "groupindex": group_index, "indexgroup": index_group}
    return header, code


def build(pattern: str, header: dict[str, Any], code: list[int]) -> Any:
    return _sre.compile(pattern, header["flags"], code, header["groups"], header["groupindex"],
                        tuple(header["indexgroup"]))


def read(path: Path) -> tuple[dict[str, Any], list[int]] | None:
    try:
        raw = path.read_bytes()
        first_line, _, body = raw.partition(b"\n")
        header = json.loads(first_line)
        code = array(_CODE_TYPECODE)
        code.frombytes(body)
    except (OSError, ValueError):
        return None
    return (header, code.tolist()) if len(code) == header.get("length") else None


def write(path: Path, header: dict[str, Any], code: list[int]) -> None:
    """Written to a temporary file and renamed: two servers starting together never read half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".sre-")
    except OSError:
        return  # a read-only folder: the next start compiles again
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(json.dumps({**header, "length": len(code)}).encode() + b"\n")
            stream.write(array(_CODE_TYPECODE, code).tobytes())
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)  # a full disk: no half-written file left behind


def compile_with_cache(folder: Path) -> Callable[..., Any]:
    """A replacement for ``sre_compile.compile`` that keeps the programs of long patterns in ``folder``."""
    original = sre_compile.compile

    def compile(pattern: Any, flags: int = 0) -> Any:
        if not isinstance(pattern, str) or len(pattern) < LONG_PATTERN or flags & sre_compile.SRE_FLAG_DEBUG:
            return original(pattern, flags)
        path = cache_file(folder, pattern, flags)
        cached = read(path)
        if cached is None:
            cached = compile_program(pattern, flags)
            write(path, *cached)
        return build(pattern, *cached)

    return compile


def install(folder: Path) -> None:
    """Every later ``re.compile`` of a long pattern in this process goes through the cache in ``folder``."""
    sre_compile.compile = compile_with_cache(folder)


@contextmanager
def compiling_with_cache(folder: Path) -> Iterator[None]:
    """The same, only inside the ``with`` block (other threads compiling meanwhile use the cache too)."""
    original = sre_compile.compile
    sre_compile.compile = compile_with_cache(folder)
    try:
        yield
    finally:
        sre_compile.compile = original
