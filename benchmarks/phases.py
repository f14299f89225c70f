"""A pytest plugin that reports where a suite's time goes: setup, call and teardown.

    cd unit2_auth && python -m pytest -p phases ...   # with benchmarks/ on PYTHONPATH

Under pytest-xdist the workers' reports reach the controller, so the totals are summed over
every worker; the wall time per test is the one to compare between serial and parallel runs.
"""

import time

import pytest

PHASES = ("setup", "call", "teardown")


class PhaseTotals:
    """Sum the duration of each test phase over a run."""

    def __init__(self) -> None:
        self.totals = dict.fromkeys(PHASES, 0.0)
        self.tests: set[str] = set()
        self.started = time.perf_counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Add one phase of one test to the totals."""
        self.totals[report.when] += report.duration
        self.tests.add(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        """Print the totals, their shares and the wall time per test."""
        wall = time.perf_counter() - self.started
        count = len(self.tests) or 1
        busy = sum(self.totals.values()) or 1.0
        terminalreporter.section("time per phase")
        for phase, total in self.totals.items():
            share, per_test_ms = total / busy, total / count * 1000
            terminalreporter.write_line(
                f"{phase:>8}: {total:7.2f} s  {share:4.0%}  {per_test_ms:6.1f} ms/test"
            )
        terminalreporter.write_line(
            f"    wall: {wall:7.2f} s for {count} tests = {wall / count * 1000:.1f} ms/test"
        )


def pytest_configure(config: pytest.Config) -> None:
    """Register the totals once, in the controller (xdist workers report to it)."""
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(PhaseTotals(), "phase-totals")
