"""The systemd units of deploy/systemd/: one per process of the production topology, each restarted with backoff,
and accepted by ``systemd-analyze verify`` (run on a copy pointing at this checkout, when systemd is installed)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.paths import REPO_ROOT
from bot.runtime.production import Production

UNITS = REPO_ROOT / "deploy" / "systemd"
INSTALL_DIR = "/opt/alliance"  # where the units expect the checkout (docs/production.md#under-systemd)
EXEC = re.compile(r"-m bot\.runtime\.production exec (\S+)$")
# systemd 252 (Debian 12) does not know these two (added in 254): it ignores them with this warning.
NEWER_KEYS = re.compile(r"Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \[Service\], ignoring\.")


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def process_units() -> dict[str, configparser.ConfigParser]:
    """The units that run a process of the topology, by the process they run (``rasa%i`` for the template)."""
    found = {}
    for path in sorted(UNITS.glob("*.service")):
        match = EXEC.search(unit(path)["Service"]["ExecStart"])
        if match:
            found[match.group(1)] = unit(path)
    return found


def test_every_process_of_the_topology_has_its_unit(tmp_path: Path) -> None:
    names = {spec.name for spec in Production(run_dir=tmp_path, env={"RASA_API_TOKEN": "t"}).process_specs()}
    expected = {"rasa%i" if name.startswith("rasa") else name for name in names}
    assert set(process_units()) == expected


def test_each_process_unit_restarts_on_failure_with_growing_delays_and_never_gives_up() -> None:
    for name, parsed in process_units().items():
        service = parsed["Service"]
        assert service["Restart"] == "on-failure", name
        assert (service["RestartSec"], service["RestartSteps"], service["RestartMaxDelaySec"]) == ("1s", "5", "30s")
        assert parsed["Unit"]["StartLimitIntervalSec"] == "0", name
        assert parsed["Unit"]["PartOf"] == "alliance.target" and "alliance-prepare.service" in parsed["Unit"]["Requires"]
        assert service["EnvironmentFile"] == f"{INSTALL_DIR}/.env" and service["WorkingDirectory"] == INSTALL_DIR


def test_the_target_starts_the_preparation_and_every_process() -> None:
    wanted = unit(UNITS / "alliance.target")["Unit"]["Wants"].split()
    assert "alliance-prepare.service" in wanted
    assert {"alliance-rasa@1.service", "alliance-rasa@2.service"} <= set(wanted)
    for path in UNITS.glob("*.service"):
        if "@" not in path.name:
            assert path.name in wanted


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    for path in UNITS.iterdir():
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8").replace(INSTALL_DIR, str(REPO_ROOT)),
                                          encoding="utf-8")
    (tmp_path / "alliance-rasa@1.service").symlink_to(tmp_path / "alliance-rasa@.service")
    names = [f"./{name}" for name in ("alliance.target", "alliance-prepare.service", "alliance-actions.service",
                                      "alliance-rasa@1.service", "alliance-web.service", "alliance-nginx.service",
                                      "alliance-analytics.service")]
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, check=False)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0, lines
    assert [line for line in lines if not NEWER_KEYS.search(line)] == []
