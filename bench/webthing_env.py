"""webthing-python 0.15 in its own venv, for the bench to run its lamp (``bench/webthing_lamp.py``).

``ensure_webthing()`` makes ``bench/.venv-webthing`` (gitignored) and installs ``webthing==0.15.0``
from the package index with pip the first time; later runs reuse it. It returns the venv's
python, or None and the reason when it cannot (no network, no ``venv`` module): the bench then
says so loudly and runs without the comparison.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv-webthing"
REQUIREMENT = "webthing==0.15.0"
LAMP = ROOT / "bench" / "webthing_lamp.py"


def _has_webthing(python: Path) -> bool:
    check = [str(python), "-c", "import importlib.metadata as m; print(m.version('webthing'))"]
    run = subprocess.run(check, capture_output=True, text=True)
    return run.returncode == 0 and run.stdout.strip() == REQUIREMENT.split("==")[1]


def ensure_webthing(venv: Path = VENV) -> tuple[str | None, str]:
    """(the venv's python or None, a sentence saying what happened)."""
    python = venv / "bin" / "python"
    if python.exists() and _has_webthing(python):
        return str(python), f"{REQUIREMENT} from {venv.relative_to(ROOT)}"
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", REQUIREMENT],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        return None, f"could not install {REQUIREMENT} into {venv}: {detail.strip()[-300:]}"
    if not _has_webthing(python):
        return None, f"{REQUIREMENT} did not install into {venv}"
    return str(python), f"installed {REQUIREMENT} into {venv.relative_to(ROOT)}"


def command(python: str) -> str:
    """The webthing-python lamp's command line, with the bench's ``{port}`` placeholder."""
    python = python.removeprefix(f"{ROOT}/")  # the bench runs servers from ROOT
    return f"{python} {LAMP.relative_to(ROOT)} --port {{port}}"
