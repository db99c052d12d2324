"""Suite-wide reporting: a loud, grouped account at the end of every run of what did not run."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Generator

import jsonschema  # noqa: F401  # first, with its format libraries (thingtalk.validation)
import pytest


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a skip report gives, without pytest's "Skipped: " prefix."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ") or "(no reason given)"


def suite_of(nodeid: str) -> str:
    """The test file a node belongs to: tests/image/test_image_boot.py::test_x -> the file."""
    return nodeid.split("::", 1)[0]


# Outermost (tryfirst) wrapper: runs after pytest's own summary sections, so the banner is the
# last thing before the final counts line.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> Generator[None]:
    try:
        return (yield)
    finally:
        write_skipped_suites(terminalreporter)


def write_skipped_suites(reporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in reporter.stats.get("skipped", []) if not hasattr(r, "wasxfail")]
    if not skipped:
        if reporter.stats.get("passed"):
            reporter.write_line("SKIPPED SUITES: none, every collected test ran", green=True)
        return
    suites: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for report in skipped:
        suites[skip_reason(report)][suite_of(report.nodeid)] += 1
    reporter.write_sep("=", "SKIPPED SUITES", yellow=True, bold=True)
    reporter.write_line(
        f"{len(skipped)} {'test' if len(skipped) == 1 else 'tests'} did NOT run on this machine"
        " (skipped is not passed):",
        yellow=True,
        bold=True,
    )
    for reason, files in sorted(suites.items(), key=lambda item: -item[1].total()):
        reporter.write_line("")
        reporter.write_line(f"  {files.total()} skipped: {reason}", yellow=True, bold=True)
        for file, count in sorted(files.items()):
            reporter.write_line(f"      {file} ({count})")
    reporter.write_sep("=", yellow=True)
