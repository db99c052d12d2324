"""Every command in README.md and image/README.md runs as written, in the order written.

The READMEs show commands in ``sh`` blocks (each line must exit 0) and ``console`` blocks
(``$ command`` then the output a user sees on stdout; ``…`` stands for text that differs from
run to run). A command that serves until Ctrl-C (``make run``, an example, ``appliance
serve``) is started in the background and answers the commands after it, as the README's
"in another terminal" says, until the next server replaces it. Each server gets a free port
in place of the README's 8888. Commands run with ``bash`` from the repository's root and a
home directory of their own, so nothing lands in the real one.

Commands this machine cannot run (Docker, root, the test suite itself) are listed in
:data:`NOT_RUN` with the reason, and reported as skipped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, free_port

DOCS = [ROOT / "README.md", ROOT / "image" / "README.md"]
README_PORT = "8888"
NOT_RUN = {
    "make test": "it is the command that runs this test",
    "make image": "pi-gen builds in Docker, and this machine has no Docker engine",
    "sudo make image-test": "CI runs it as `make image-test` (root, QEMU, about 5 minutes)",
}
SERVER = re.compile(
    r"^(make run|\.venv/bin/python examples/\S+\.py\b.*|\.venv/bin/appliance serve\b.*)$"
)
COMMENT = re.compile(r"\s+#\s.*$")
SERVER_START = 60.0
COMMAND_TIMEOUT = 600.0


@dataclass
class Step:
    """One command of a README, with the output it shows (``None``: only its status counts)."""

    doc: Path
    line: int
    command: str
    expected: list[str] | None = None

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def steps(doc: Path) -> list[Step]:
    """The commands of ``doc``'s ``sh`` and ``console`` blocks, in order."""
    found: list[Step] = []
    lines = doc.read_text().splitlines()
    fence: str | None = None
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        if fence == "sh":
            command = COMMENT.sub("", line).strip()
            if command and not command.startswith("#"):
                found.append(Step(doc, number, command))
        elif fence == "console":
            if line.startswith("$ "):
                found.append(Step(doc, number, line[2:].strip(), []))
            elif found and found[-1].expected is not None:
                found[-1].expected.append(line)
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line, ``…`` standing for any text within a line."""
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual, strict=True):
        pattern = ".*".join(re.escape(part) for part in want.split("…"))
        if not re.fullmatch(pattern, got):
            return False
    return True


@dataclass
class Session:
    """The shell a README reader has: a home, and the server running in another terminal."""

    home: Path
    port: str = README_PORT
    server: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        real_home = Path.home()
        return {
            **os.environ,
            "HOME": str(self.home),
            # The package caches stay shared, so nothing is downloaded twice.
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(real_home / ".cache" / "pip")),
            "NPM_CONFIG_CACHE": os.environ.get("NPM_CONFIG_CACHE", str(real_home / ".npm")),
        }

    def localise(self, text: str) -> str:
        return text.replace(README_PORT, self.port)

    def serve(self, step: Step) -> None:
        self.stop()
        self.port = str(free_port())
        command = self.localise(step.command)
        if command == "make run":
            command += f" PORT={self.port}"
        log = self.home / f"server-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.server = subprocess.Popen(
                ["bash", "-c", command],
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # make's child goes with it
            )
        deadline = time.monotonic() + SERVER_START
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=2)
                return
            except httpx.TransportError:
                pass
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{step.where}: `{step.command}` did not serve:\n{log.read_text()}"
                )
            time.sleep(0.1)  # polling for the server to answer, not waiting a fixed time

    def run(self, step: Step) -> None:
        result = subprocess.run(
            ["bash", "-c", self.localise(step.command)],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
        )
        stdout = result.stdout.decode(errors="replace").replace("\r", "")
        if step.expected is None:
            assert result.returncode == 0, (
                f"{step.where}: `{step.command}` exited {result.returncode}:\n"
                f"{stdout}{result.stderr.decode(errors='replace')}"
            )
            return
        expected = [self.localise(line) for line in step.expected]
        while expected and not expected[-1]:
            expected.pop()
        actual = stdout.rstrip("\n").split("\n") if stdout.strip() else []
        assert matches(expected, actual), (
            f"{step.where}: `{step.command}` printed\n{stdout}\nbut the README shows\n"
            + "\n".join(expected)
        )

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(30)
        self.server = None


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    home = tmp_path / "home"
    home.mkdir()
    shell = Session(home)
    try:
        yield shell
    finally:
        shell.stop()


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_command_runs_as_written(doc: Path, session: Session) -> None:
    ran = 0
    for step in steps(doc):
        if step.command in NOT_RUN:
            continue
        if SERVER.match(step.command):
            session.serve(step)
        else:
            session.run(step)
        ran += 1
    assert ran or all(s.command in NOT_RUN for s in steps(doc))


@pytest.mark.parametrize(("command", "reason"), NOT_RUN.items())
def test_commands_this_machine_cannot_run(command: str, reason: str) -> None:
    shown = [s.command for doc in DOCS for s in steps(doc)]
    assert command in shown, f"`{command}` is no longer in the READMEs: drop it from NOT_RUN"
    pytest.skip(f"README command `{command}` not run: {reason}")


def test_the_node_wot_session_in_the_readme_is_the_file_it_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```js\n(.*?)```", readme, flags=re.S)
    assert blocks == [(ROOT / "examples" / "node-wot" / "lamp.js").read_text()]
