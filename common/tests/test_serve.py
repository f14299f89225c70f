"""`python -m scheduler_common.serve`: a seeded throwaway database and a unit's app on it.

The unit's app is replaced by a stand-in `scheduler` module whose `run()` records how it
was called (and looks at the database while it is up) instead of serving forever.
"""

import os
import runpy
import signal
import sys
import types
from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest

from scheduler_common import serve
from scheduler_common.serve import prepare_local_database


class RecordingApp:
    """Stands in for a Flask app: `run()` records its arguments and the database it sees."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.run_kwargs = None
        self.courses_while_running = None

    def run(self, **kwargs):
        self.run_kwargs = kwargs
        with psycopg.connect(self.database_url) as conn:
            self.courses_while_running = conn.execute("SELECT count(*) FROM courses").fetchone()[0]
        self.then()

    @staticmethod
    def then():
        """What happens after the checks; by default `run()` returns, as after Ctrl+C."""


@pytest.fixture
def fake_unit(monkeypatch, schema_creator) -> Iterator[list[RecordingApp]]:
    """Install a stand-in `scheduler` package; returns the apps its create_app made.

    `main()` installs a SIGTERM handler; the test process gets its own back afterwards.
    """
    apps: list[RecordingApp] = []
    module = types.ModuleType("scheduler")
    module.create_schema = schema_creator

    def create_app():
        apps.append(RecordingApp(os.environ["DATABASE_URL"]))
        return apps[-1]

    module.create_app = create_app
    monkeypatch.setitem(sys.modules, "scheduler", module)
    previous_handler = signal.getsignal(signal.SIGTERM)
    yield apps
    signal.signal(signal.SIGTERM, previous_handler)


def test_prepare_local_database_seeds_a_database_that_lives_as_long_as_the_stack(
    capsys, schema_creator
):
    with ExitStack() as stack:
        url = prepare_local_database(stack, schema_creator, 1)

        assert url.endswith(f"/{serve.DATABASE}")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM courses").fetchone()[0] == 40
            assert conn.execute("SELECT count(*) FROM enrollments").fetchone()[0] == 2000
        output = capsys.readouterr().out
        assert output.startswith(f"Throwaway PostgreSQL at {url}, seeded with SeedCounts(")

    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_main_with_database_url_serves_on_the_host_and_port_given(
    fake_unit, monkeypatch, database_url, capsys
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(sys, "argv", ["serve", "--host", "0.0.0.0", "--port", "8123"])

    serve.main()

    [app] = fake_unit
    assert app.database_url == database_url
    assert app.run_kwargs == {
        "host": "0.0.0.0",
        "port": 8123,
        "use_reloader": False,
        "threaded": True,
    }
    assert app.courses_while_running == 0  # the given database is used as it is
    output = capsys.readouterr().out
    assert "Throwaway PostgreSQL" not in output
    assert "Serving the API at http://0.0.0.0:8123/api/v1" in output


def test_main_defaults_to_localhost_port_5000(fake_unit, monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(sys, "argv", ["serve"])

    serve.main()

    [app] = fake_unit
    assert app.run_kwargs["host"] == "127.0.0.1"
    assert app.run_kwargs["port"] == 5000


def test_main_without_database_url_serves_a_seeded_throwaway_database(
    fake_unit, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", "")  # unset, and restored after the test
    monkeypatch.setattr(sys, "argv", ["serve", "--port", "5055", "--scale", "2"])

    serve.main()

    [app] = fake_unit
    assert app.courses_while_running == 80  # seeded at scale 2 while the app ran
    assert app.run_kwargs["port"] == 5055
    output = capsys.readouterr().out
    assert f"Throwaway PostgreSQL at {app.database_url}" in output
    with pytest.raises(psycopg.OperationalError):  # and stopped once the app returned
        psycopg.connect(app.database_url, connect_timeout=2)


def test_main_stopped_by_sigterm_still_removes_the_throwaway_server(fake_unit, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setattr(sys, "argv", ["serve"])
    monkeypatch.setattr(
        RecordingApp, "then", staticmethod(lambda: os.kill(os.getpid(), signal.SIGTERM))
    )

    with pytest.raises(SystemExit) as raised:
        serve.main()

    assert raised.value.code == 0
    [app] = fake_unit
    assert app.courses_while_running == 40
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(app.database_url, connect_timeout=2)


def test_main_rejects_a_port_that_is_not_a_number(fake_unit, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["serve", "--port", "http"])

    with pytest.raises(SystemExit) as raised:
        serve.main()

    assert raised.value.code == 2
    assert "invalid int value: 'http'" in capsys.readouterr().err
    assert fake_unit == []


def test_running_the_module_as_a_script_calls_main(fake_unit, monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(sys, "argv", ["serve", "--port", "5099"])

    runpy.run_path(serve.__file__, run_name="__main__")

    [app] = fake_unit
    assert app.run_kwargs["port"] == 5099
