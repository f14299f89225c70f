"""Per-test isolation overhead, next to the raw CREATE DATABASE … TEMPLATE + DROP cost.

    nox -s benchmark                  # the newest unit
    nox -s benchmark -- --rounds 300

Runs a throwaway pytest session on the shared fixtures: tests that take a fresh database
(`database_name`) or a whole app bound to one (`client`) and do nothing else, so their setup
plus teardown time is the isolation overhead; and, on the same server in the same run, the
raw clone-and-drop statements timed directly. Reports medians and the ratio (target ≤ 1.5×).
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import pytest

CONFTEST = """
import pytest
from scheduler import create_app, create_schema

@pytest.fixture(scope="session")
def schema_creator():
    return create_schema

@pytest.fixture(scope="session")
def app_factory():
    return create_app
"""

TESTS = """
import time
import pytest
from psycopg import sql

ROUNDS = {rounds}

def raw_clone_and_drop(timings, admin_connection, template_database):
    for n in range(ROUNDS):
        name = sql.Identifier(f"raw_{{n}}")
        started = time.perf_counter()
        admin_connection.execute(
            sql.SQL("CREATE DATABASE {{}} TEMPLATE {{}}").format(
                name, sql.Identifier(template_database)))
        admin_connection.execute(sql.SQL("DROP DATABASE {{}} WITH (FORCE)").format(name))
        timings.append(time.perf_counter() - started)

def test_raw_before(raw_timings, admin_connection, template_database):
    raw_clone_and_drop(raw_timings, admin_connection, template_database)

@pytest.mark.parametrize("n", range(ROUNDS))
def test_database(database_name, n):
    pass

@pytest.mark.parametrize("n", range(ROUNDS))
def test_client(client, n):
    pass

def test_raw_after(raw_timings, admin_connection, template_database):
    raw_clone_and_drop(raw_timings, admin_connection, template_database)
"""


class Collector:
    """A pytest plugin that keeps each test's setup + teardown time."""

    def __init__(self) -> None:
        self.raw: list[float] = []
        self.overhead: dict[str, dict[str, float]] = {"database": {}, "client": {}}

    @pytest.fixture
    def raw_timings(self) -> list[float]:
        """Where the raw clone-and-drop test puts its timings."""
        return self.raw

    def pytest_runtest_logreport(self, report) -> None:
        """Add up the setup and teardown phases of the do-nothing tests."""
        for kind, timings in self.overhead.items():
            if f"test_{kind}[" in report.nodeid and report.when in ("setup", "teardown"):
                timings[report.nodeid] = timings.get(report.nodeid, 0.0) + report.duration


def main() -> int:
    """Run the measurement and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    collector = Collector()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "conftest.py").write_text(CONFTEST)
        Path(folder, "test_isolation.py").write_text(TESTS.format(rounds=args.rounds))
        exit_code = pytest.main(
            ["-q", "-p", "no:cacheprovider", "--rootdir", folder, folder],
            plugins=[collector],
        )
    if exit_code != 0:
        return int(exit_code)

    raw_ms = statistics.median(collector.raw) * 1000
    runs = len(collector.raw)
    print(f"\nraw CREATE DATABASE … TEMPLATE + DROP: median {raw_ms:.1f} ms ({runs} runs)")
    for kind, timings in collector.overhead.items():
        # The first test of each kind also pays for session fixtures; leave it out.
        per_test = sorted(timings.items())[1:]
        median_ms = statistics.median(duration for _, duration in per_test) * 1000
        print(
            f"per-test isolation with `{kind}` fixture: median {median_ms:.1f} ms"
            f" = {median_ms / raw_ms:.2f}× raw"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
