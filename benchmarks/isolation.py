"""Per-test isolation overhead, next to the raw CREATE DATABASE … TEMPLATE + DROP cost, and
what a unit's whole suite costs per test, serial and on every core.

    nox -s benchmark                                  # every unit
    nox -s "benchmark(unit='unit2_auth')" -- --rounds 300
    python benchmarks/isolation.py unit1_data_api     # with the unit and common[testing] installed

First a throwaway pytest session on the unit's own fixtures (its tests/conftest.py, so Unit 2's
`client` is its admin client with its SECRET_KEY): tests that take a fresh database
(`database_name`), a connection to one (`db`) or a client of an app bound to one (`client`) and
do nothing else, so their setup plus teardown time is the isolation overhead; each also times
the raw clone-and-drop statements in its body, so that every overhead has a raw cost measured
beside it. Then the unit's real suite, once in one process and once with pytest-xdist on every
core. Reports medians and ratios (target for `client`: ≤ 1.5× raw).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted(path.parent.name for path in ROOT.glob("unit[0-9]*_*/pyproject.toml"))
FIXTURES = ("database_name", "db", "client")

# Each do-nothing test also times one raw clone-and-drop in its body, so every overhead
# (its setup + teardown) has a raw cost measured next to it, under the same load; and the
# three fixtures take turns, round by round. (Timing the raw statements before and after all
# the tests let the load of a shared machine drift between them: the very same fixture
# measured 0.9× raw in one run and 1.2× in the next.)
TESTS = """
import time
import pytest
from psycopg import sql

ROUNDS = {rounds}
FIXTURES = {fixtures!r}

@pytest.fixture
def isolated(request):
    return request.getfixturevalue(request.param)

@pytest.mark.parametrize("isolated", FIXTURES, indirect=True)
@pytest.mark.parametrize("n", range(ROUNDS))
def test_isolation(isolated, n, request, raw_timings, admin_connection, template_database):
    name = sql.Identifier(f"raw_{{n}}")
    started = time.perf_counter()
    admin_connection.execute(
        sql.SQL("CREATE DATABASE {{}} TEMPLATE {{}}").format(
            name, sql.Identifier(template_database)))
    admin_connection.execute(sql.SQL("DROP DATABASE {{}} WITH (FORCE)").format(name))
    raw_timings[request.node.nodeid] = time.perf_counter() - started
"""
WALL_LINE = re.compile(r"wall: +([\d.]+) s for (\d+) tests")


class Collector:
    """A pytest plugin that keeps each do-nothing test's setup + teardown time and the raw
    clone-and-drop time measured in its body."""

    def __init__(self) -> None:
        self.raw: dict[str, float] = {}
        self.overhead: dict[str, dict[str, float]] = {fixture: {} for fixture in FIXTURES}

    @pytest.fixture
    def raw_timings(self) -> dict[str, float]:
        """Where each test puts its raw clone-and-drop time, by test id."""
        return self.raw

    def pytest_runtest_logreport(self, report) -> None:
        """Add up the setup and teardown phases of the do-nothing tests, by fixture."""
        for fixture, timings in self.overhead.items():
            if report.nodeid.endswith(f"-{fixture}]") and report.when in ("setup", "teardown"):
                timings[report.nodeid] = timings.get(report.nodeid, 0.0) + report.duration


# The throwaway session's conftest.py: the unit's own fixtures, copied in from its
# tests/conftest.py. Fixtures of a conftest outrank a plugin's, so Unit 2's admin `client`
# replaces the common one (as a plugin, the unit's conftest lost to it and Unit 2 was timed
# with the common anonymous client); its helper modules import from beside it.
CONFTEST = """
import importlib.util
import sys

sys.path.insert(0, {tests!r})
_spec = importlib.util.spec_from_file_location("unit_conftest", {conftest!r})
_unit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_unit)
globals().update({{name: value for name, value in vars(_unit).items() if name[0] != "_"}})
"""


def measure_fixtures(unit: str, rounds: int) -> int:
    """Time the raw clone-and-drop and the do-nothing tests; print the medians."""
    collector = Collector()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_isolation.py").write_text(TESTS.format(rounds=rounds, fixtures=FIXTURES))
        tests = ROOT / unit / "tests"
        Path(folder, "conftest.py").write_text(
            CONFTEST.format(tests=str(tests), conftest=str(tests / "conftest.py"))
        )
        # In order, in this process: round by round, each fixture in turn.
        options = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist"]
        exit_code = pytest.main([*options, "--rootdir", folder, folder], plugins=[collector])
    if exit_code != 0:
        return int(exit_code)

    raw = list(collector.raw.values())
    print(
        f"\n{unit}: raw CREATE DATABASE … TEMPLATE + DROP: median"
        f" {statistics.median(raw) * 1000:.1f} ms, mean {statistics.mean(raw) * 1000:.1f} ms"
    )
    for fixture, timings in collector.overhead.items():
        # The first round also pays for session fixtures; leave it out.
        tests = sorted(timings, key=round_number)[1:]
        ratios = [timings[test] / collector.raw[test] for test in tests]
        overhead_ms = statistics.mean(timings[test] for test in tests) * 1000
        raw_ms = statistics.mean(collector.raw[test] for test in tests) * 1000
        # The mean is what a suite pays: a median hides stalls that hit one test in three.
        print(
            f"{unit}: per-test isolation with `{fixture}`: median"
            f" {statistics.median(timings[test] for test in tests) * 1000:.1f} ms,"
            f" median of the ratios {statistics.median(ratios):.2f}× raw;"
            f" mean {overhead_ms:.1f} ms = {overhead_ms / raw_ms:.2f}× raw ({raw_ms:.1f} ms)"
        )
    return 0


def round_number(test_id: str) -> int:
    """The round of a do-nothing test, from its id (test_isolation[7-client] is round 7)."""
    return int(test_id.rpartition("[")[2].partition("-")[0])


def time_suite(unit: str, workers: str) -> tuple[float, int]:
    """Run the unit's whole suite with `-n workers`; return its wall time and test count."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "benchmarks")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "phases"]
    result = subprocess.run(
        [*command, "-n", workers],
        cwd=ROOT / unit,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    found = WALL_LINE.search(result.stdout)
    if result.returncode != 0 or not found:
        raise SystemExit(f"{unit}'s suite failed with -n {workers}:\n{result.stdout[-3000:]}")
    return float(found.group(1)), int(found.group(2))


def measure_suite(unit: str) -> None:
    """Print the suite's cost per test in one process and on every core."""
    serial, tests = time_suite(unit, "0")
    parallel, _ = time_suite(unit, "auto")
    print(
        f"{unit}: whole suite, {tests} tests, in one process: {serial / tests * 1000:.1f} ms/test"
    )
    print(
        f"{unit}: whole suite with pytest-xdist -n auto ({os.cpu_count()} CPUs):"
        f" {parallel / tests * 1000:.1f} ms/test = {serial / parallel:.2f}× faster"
    )


def main() -> int:
    """Run the measurements and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("unit", nargs="?", default=UNITS[-1], choices=UNITS)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-suite", action="store_true", help="skip the whole-suite timing")
    args = parser.parse_args()

    exit_code = measure_fixtures(args.unit, args.rounds)
    if exit_code == 0 and not args.no_suite:
        measure_suite(args.unit)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
