"""The documentation stays usable: a short README that starts with the two commands, links that resolve,
and commands, paths and ``make`` targets that exist.

The README is the front page (at most :data:`README_MAX_CHARS` characters); the rest is in ``docs/``, one
file per subject, each linked from the README. Links, including ``#anchors`` (GitHub's heading slugs), are
checked in README.md and docs/*.md; ``python -m`` modules, ``make`` targets and repository paths are
checked in their code spans and code blocks, so that a file moved or renamed shows here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
README_MAX_CHARS = 12_000

FENCE = re.compile(r"^```")
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
PYTHON_MODULE = re.compile(r"python -m ((?:bot|bench|tests)(?:\.\w+)*)")
MAKE_TARGET = re.compile(r"(?:^|[\s(`])make ([a-z][a-z-]*)")
# A path of the repository as written in a code span: a top-level folder of the project, then a path.
REPO_PATH = re.compile(r"^(?:bot|actions|tests|bench|data|docs)/[\w./-]*$")
# Written by the runs, ignored by git: named in the documentation but absent from a clone.
GENERATED = ("bench/results/", "tests/output/")


def markdown_files() -> list[Path]:
    return [README, *DOCS]


def split_code(text: str) -> tuple[str, str]:
    """(prose, code): the lines outside fenced blocks, and the lines inside them."""
    prose, code, inside = [], [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            inside = not inside
            continue
        (code if inside else prose).append(line)
    return "\n".join(prose), "\n".join(code)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    prose, _ = split_code(path.read_text(encoding="utf-8"))
    return {slug(line.lstrip("#")) for line in prose.splitlines() if re.match(r"^#{1,6} ", line)}


def links(path: Path) -> Iterator[str]:
    prose, _ = split_code(path.read_text(encoding="utf-8"))
    yield from LINK.findall(CODE_SPAN.sub("", prose))


def code_texts(path: Path) -> Iterator[str]:
    """Every code span and every code block of a Markdown file."""
    prose, code = split_code(path.read_text(encoding="utf-8"))
    yield from CODE_SPAN.findall(prose)
    yield code


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))


def test_readme_is_short() -> None:
    size = len(README.read_text(encoding="utf-8"))
    assert size <= README_MAX_CHARS, f"README.md has {size} characters; move details to docs/"


def test_readme_starts_with_the_two_commands() -> None:
    lines = [line for line in README.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines[0].startswith("# "), "README.md starts with its title"
    assert FENCE.match(lines[1]), "the title is followed by the commands, in a code block"
    assert lines[2].split()[:2] == ["make", "run"]
    assert lines[3].split()[:2] == ["make", "test"]


def test_every_docs_file_starts_with_a_title_and_a_summary() -> None:
    assert DOCS, "docs/ has no Markdown file"
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# "), f"{path.name} starts with its title"
        summary = next((line for line in lines[1:] if line.strip()), "")
        assert summary and not re.match(r"^(#|-|\||```|\d+\.)", summary), f"{path.name}: a summary paragraph first"


def test_every_docs_file_is_linked_from_the_readme() -> None:
    linked = {(README.parent / link.split("#")[0]).resolve() for link in links(README) if not SCHEME.match(link)}
    assert [path.name for path in DOCS if path.resolve() not in linked] == []


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: path.name)
def test_relative_links_resolve(path: Path) -> None:
    broken = []
    for link in links(path):
        if SCHEME.match(link):
            continue
        target, _, anchor = link.partition("#")
        resolved = (path.parent / target).resolve() if target else path
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(f"{link}: no such file in the repository")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{link}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: path.name)
def test_commands_and_paths_exist(path: Path) -> None:
    targets = make_targets()
    missing = []
    for text in code_texts(path):
        for module in PYTHON_MODULE.findall(text):
            base = ROOT.joinpath(*module.split("."))
            if not (base.with_suffix(".py").is_file() or (base / "__main__.py").is_file()):
                missing.append(f"python -m {module}")
        missing += [f"make {target}" for target in MAKE_TARGET.findall(text) if target not in targets]
        name = text.strip()
        if REPO_PATH.match(name) and not name.startswith(GENERATED) and not (ROOT / name).exists():
            missing.append(name)
    assert not missing, "\n".join(missing)
