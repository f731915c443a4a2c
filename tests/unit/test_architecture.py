"""The layout's rules: what each package may import, and modules small enough to read in one sitting.

Each package's docstring says what it may import; :data:`ALLOWED` is the same in a form a test can
check. Imports are read from the source (every ``import`` and ``from … import``, also inside
functions), so a rule is broken as soon as the line is written, not only when it runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("bot", "actions", "bench")
MAX_MODULE_LINES = 500

# Leaf modules that every package may import.
SHARED = {"bot", "bot.paths", "bot.regex_cache"}
# Project packages (and top-level modules) each layer may import, besides itself and SHARED.
ALLOWED: dict[str, set[str]] = {
    "bot": set(),
    "bot.paths": set(),
    "bot.regex_cache": set(),
    "bot.settings": set(),
    "bot.diagnostic": set(),
    "bot.knowledge": {"bot.diagnostic"},
    "bot.store": {"bot.diagnostic", "bot.knowledge", "bot.settings"},
    "bot.workshops": {"bot.diagnostic", "bot.store", "bot.settings"},
    "bot.result": {"bot.diagnostic", "bot.knowledge"},
    "bot.web": {"bot.diagnostic", "bot.knowledge", "bot.result", "bot.store", "bot.workshops", "bot.settings",
                "bot.analytics", "bot.console"},
    "bot.analytics": {"bot.diagnostic", "bot.store", "bot.settings"},
    "bot.console": {"bot.diagnostic", "bot.knowledge", "bot.store", "bot.analytics", "bot.settings"},
    "bot.runtime": {"bot.settings"},
    "actions": {"bot.diagnostic", "bot.knowledge", "bot.result", "bot.store", "bot.workshops", "bot.settings",
                "bot.analytics"},
    "bench": {"bot.diagnostic", "bot.knowledge", "bot.store", "bot.workshops", "bot.settings", "bot.runtime",
              "bot.analytics", "bot.console",
              "tests"},
}
# Third-party frameworks that only some layers may use.
FRAMEWORKS = {"rasa": {"bot.runtime", "bench"}, "rasa_sdk": {"actions"}, "sanic": {"bot.web"},
              "jinja2": {"bot.web"}, "aiohttp": {"bot.web", "bot.runtime", "bench"},
              "sqlalchemy": {"bot.store", "bot.workshops", "bot.runtime", "bench", "bot.analytics", "bot.console"}}
DOMAIN = ("bot.diagnostic", "bot.knowledge", "bot.result", "bot.store", "bot.workshops", "bot.analytics", "bot.console")


def modules() -> Iterator[tuple[str, Path]]:
    for directory in CODE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def layer(module: str) -> str:
    """The entry of ALLOWED a module belongs to (its longest prefix)."""
    matches = [name for name in ALLOWED if module == name or module.startswith(name + ".")]
    if not matches:
        raise AssertionError(f"{module} belongs to no layer of tests/unit/test_architecture.py")
    return max(matches, key=len)


def imported(module: str, source: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in ``source``, relative imports resolved against ``module``."""
    tree = ast.parse(source)
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            yield node.lineno, base
            if base == "bot":  # « from bot import workshops » imports bot.workshops
                for alias in node.names:
                    yield node.lineno, f"bot.{alias.name}"


def project_target(name: str) -> str | None:
    """The layer an imported project module belongs to, or None for a third-party module."""
    if name in SHARED:
        return None
    if name.split(".")[0] not in ("bot", "actions", "bench", "tests"):
        return None
    if name.split(".")[0] == "tests":
        return "tests"
    try:
        return layer(name)
    except AssertionError:
        return None  # an attribute imported from a package (« from bot.store import diagnostics »): checked below


def violations(sources: Iterable[tuple[str, str, str]]) -> list[str]:
    """Broken rules in ``sources``: (module name, file name, source text)."""
    found = []
    for module, file_name, source in sources:
        own = layer(module)
        for line, name in imported(module, source):
            where = f"{file_name}:{line}"
            target = project_target(name)
            if target is not None and target != own and target not in ALLOWED[own]:
                found.append(f"{where}: {own} may not import {name} ({target})")
            top = name.split(".")[0]
            if top in FRAMEWORKS and own not in FRAMEWORKS[top]:
                found.append(f"{where}: {own} may not import {name}")
    return found


def project_sources() -> Iterator[tuple[str, str, str]]:
    for module, path in modules():
        yield module, str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


def test_every_package_imports_only_what_its_layer_allows() -> None:
    assert violations(project_sources()) == []


def test_the_rules_catch_a_violation() -> None:
    """A domain module importing Rasa, Sanic, the web app or the runtime is reported: the check can fail."""
    probe = ("from rasa.core import agent\nfrom bot.web import app\nimport sanic\n"
             "def later():\n    from bot.runtime import stack\n")
    found = violations([("bot.diagnostic.probe", "probe.py", probe), ("bot.knowledge.probe", "p2.py", "import bot.store.db\n"),
                        ("actions.probe", "p3.py", "from bot import web\n")])
    assert found == [
        "probe.py:1: bot.diagnostic may not import rasa.core",
        "probe.py:2: bot.diagnostic may not import bot.web (bot.web)",
        "probe.py:3: bot.diagnostic may not import sanic",
        "probe.py:5: bot.diagnostic may not import bot.runtime (bot.runtime)",
        "p2.py:1: bot.knowledge may not import bot.store.db (bot.store)",
        "p3.py:1: actions may not import bot.web (bot.web)",
    ]


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_never_import_rasa_sanic_or_the_web(package: str) -> None:
    assert not ALLOWED[package] & {"bot.web", "bot.runtime", "actions"}
    for framework in ("rasa", "rasa_sdk", "sanic", "jinja2", "aiohttp"):
        assert package not in FRAMEWORKS[framework]


def test_every_package_says_what_it_is_for_and_what_it_may_import() -> None:
    for init in sorted((ROOT / "bot").rglob("__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert docstring, f"{init.relative_to(ROOT)} has no docstring"
        if init.parent != ROOT / "bot":
            assert "import" in docstring, f"{init.relative_to(ROOT)} does not say what it may import"


def test_modules_stay_small_enough_to_read_in_one_sitting() -> None:
    too_long = {str(path.relative_to(ROOT)): count for _, path in modules()
                if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert too_long == {}
