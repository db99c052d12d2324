"""Importing any module is free of side effects, and the model loads no web stack.

Each import runs in a fresh interpreter (a module already imported by the test run would
hide what it pulls in), in an empty working directory, and reports what changed.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import appliance
import hardware
import thingtalk
from tests.support import ROOT

# Sixty-odd fresh interpreters: a minute on an idle 2-core machine, several on a busy one.
pytestmark = pytest.mark.timeout(900)

WEB_STACK = ("quart", "hypercorn", "werkzeug", "zeroconf", "h11", "h2", "wsproto")
# The model and the descriptions: what a program building and driving things needs.
MODEL = [
    "thingtalk",
    "thingtalk.action",
    "thingtalk.errors",
    "thingtalk.event",
    "thingtalk.loops",
    "thingtalk.property",
    "thingtalk.thing",
    "thingtalk.things",
    "thingtalk.timestamp",
    "thingtalk.validation",
    "thingtalk.value",
    "thingtalk.descriptions",
    "thingtalk.descriptions.webthings",
    "thingtalk.descriptions.w3c",
    "thingtalk.descriptions.mqtt",
    "thingtalk.descriptions.errors",
    "thingtalk.mqtt",
]

PROBE = r"""
import json, logging, os, signal, sys, threading, warnings
name = sys.argv[1]
warnings.simplefilter("error")
before = set(sys.modules)
handlers = list(logging.getLogger().handlers)
signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
__import__(name)
print(json.dumps({
    "modules": sorted(set(sys.modules) - before),
    "threads": threading.active_count(),
    "root_handlers_added": len(logging.getLogger().handlers) - len(handlers),
    "signals_changed": [int(s) for s, h in signals.items() if signal.getsignal(s) is not h],
    "files": os.listdir("."),
}))
"""


def modules(package: Any) -> list[str]:
    """Every module of ``package``, the package itself first."""
    found = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        found.append(info.name)
    return found


ALL = modules(thingtalk) + modules(appliance) + modules(hardware)


def probe(name: str, workdir: Path) -> dict[str, Any]:
    """Import ``name`` in a fresh interpreter and report what it did."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, name],
        cwd=workdir,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"importing {name} failed:\n{result.stderr}"
    *printed, report = result.stdout.splitlines()
    assert printed == [] and result.stderr == "", f"importing {name} printed something"
    found: dict[str, Any] = json.loads(report)
    return found


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every module's import report, probed in parallel (each interpreter is independent)."""
    dirs = {name: tmp_path_factory.mktemp("import") for name in ALL}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        found = pool.map(lambda name: (name, probe(name, dirs[name])), ALL)
        return dict(found)


def test_every_package_is_probed() -> None:
    assert set(MODEL) <= set(ALL), "a model module moved: update MODEL"
    assert "thingtalk.server" in ALL and "appliance.cli" in ALL and "hardware.dht" in ALL


@pytest.mark.parametrize("name", ALL)
def test_importing_has_no_side_effects(name: str, reports: dict[str, dict[str, Any]]) -> None:
    report = reports[name]
    assert report["threads"] == 1, "an import started a thread"
    assert report["root_handlers_added"] == 0, "an import configured logging"
    assert report["signals_changed"] == [], "an import installed signal handlers"
    assert report["files"] == [], "an import wrote files"
    if name.startswith("thingtalk"):
        leaked = [m for m in report["modules"] if m.split(".")[0] in ("appliance", "hardware")]
        assert leaked == [], "the library imports the product or the drivers"


@pytest.mark.parametrize("name", MODEL)
def test_the_model_loads_no_web_stack(name: str, reports: dict[str, dict[str, Any]]) -> None:
    loaded = reports[name]["modules"]
    web = sorted({m.split(".")[0] for m in loaded} & set(WEB_STACK))
    assert web == [], f"importing {name} loaded {web}"


def test_the_server_is_still_importable_from_the_package(tmp_path: Path) -> None:
    code = "from thingtalk import Route, WebThingServer; print(WebThingServer.__module__)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "thingtalk.server"
