"""Fixtures for the system tests (lesson 4.10), marked `system`: `nox -s e2e` runs them, the
default `pytest` leaves them out (each starts a PostgreSQL server and processes of its own)."""

from collections.abc import Iterator

import pytest
from running_system import Processes, create_database
from smtp_sink import Sink, SinkController

from scheduler_common.localdb import LocalPostgres, running_postgres


@pytest.fixture
def postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL server for this test alone, which it may stop and start."""
    with running_postgres() as server:
        yield server


@pytest.fixture
def system_database(postgres: LocalPostgres) -> str:
    """The URL of a database with this unit's schema on that server."""
    return create_database(postgres)


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    """Start the system's processes; each is stopped when the test ends."""
    started = Processes(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real SMTP server in this process, for the workers' mail."""
    sink = Sink()
    controller = SinkController(sink, hostname="127.0.0.1", port=0)
    controller.start()
    sink.port = controller.port
    yield sink
    for held in sink.holds:  # a test that failed midway must not leave a session waiting
        held.release.set()
    controller.stop()
