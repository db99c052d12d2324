"""Finding the browser for the page tests: wherever the system put it, or say how to get one."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import conftest
from .conftest import CHROMIUM_ENV, chromium_executable


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with no browser at any of the usual places and none on the PATH."""
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setattr(conftest, "CHROMIUM_PATHS", ())
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)


def executable(path: Path) -> str:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_the_environment_variable_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nowhere: None
) -> None:
    browser = executable(tmp_path / "my-chromium")
    monkeypatch.setenv(CHROMIUM_ENV, browser)
    assert chromium_executable() == browser


def test_a_wrong_environment_variable_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "missing"))
    with pytest.raises(pytest.fail.Exception, match="is not an executable file"):
        chromium_executable()


def test_a_browser_on_the_path_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nowhere: None
) -> None:
    browser = executable(tmp_path / "chromium-browser")
    monkeypatch.setattr(
        conftest.shutil, "which", lambda name: browser if name == "chromium-browser" else None
    )
    assert chromium_executable() == browser


def test_no_browser_on_linux_fails_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, nowhere: None
) -> None:
    monkeypatch.setattr(conftest.sys, "platform", "linux")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        chromium_executable()


def test_no_browser_elsewhere_skips_loudly(monkeypatch: pytest.MonkeyPatch, nowhere: None) -> None:
    monkeypatch.setattr(conftest.sys, "platform", "darwin")
    with pytest.raises(pytest.skip.Exception, match="BROWSER TESTS SKIPPED"):
        chromium_executable()
