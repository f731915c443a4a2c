"""A benchmark's report: the Markdown table printed at the end, the machine it ran on, the JSON kept."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.processes import RESULTS_DIR


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




def write_json(report: dict[str, Any], name: str) -> Path:
    """Write ``report`` to bench/results/<name>.json; return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path

