"""`python -m scheduler_common.serve`: a seeded throwaway database and a unit's app on it.

The unit's app is replaced by a stand-in `scheduler` module whose `run()` records how it
was called (and looks at the database while it is up) instead of serving forever.
"""

import os
import runpy
import signal
import socket
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psutil
import psycopg
import pytest

from scheduler_common import serve
from scheduler_common.serve import outbox_command, prepare_local_database

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
UNIT1_SCHEMA = Path(__file__).resolve().parents[2] / "unit1_data_api" / "scheduler" / "schema"
STARTUP_LINES = 200  # serve prints a handful of lines before it serves; bounded, not timed


class RecordingApp:
    """Stands in for a Flask app: `run()` records its arguments and the database it sees."""

    def __init__(self, database_url: str, commands: dict | None = None):
        self.database_url = database_url
        self.cli = types.SimpleNamespace(commands=commands or {})
        self.root_path = "/units/unit2_auth/scheduler"
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

    `main()` installs SIGINT and SIGTERM handlers; the test process gets its own back.
    """
    apps: list[RecordingApp] = []
    module = types.ModuleType("scheduler")
    module.create_schema = schema_creator

    def create_app():
        apps.append(RecordingApp(os.environ["DATABASE_URL"]))
        return apps[-1]

    module.create_app = create_app
    monkeypatch.setitem(sys.modules, "scheduler", module)
    previous_handlers = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    yield apps
    for number, handler in previous_handlers.items():
        signal.signal(number, handler)


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


def test_a_busy_port_is_refused_before_any_database_is_made(fake_unit, monkeypatch, capsys):
    made = []
    monkeypatch.setattr(serve, "prepare_local_database", lambda *args: made.append(args))
    monkeypatch.setenv("DATABASE_URL", "")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(sys, "argv", ["serve", "--port", str(port)])

        with pytest.raises(SystemExit) as raised:
            serve.main()

    assert raised.value.code == 1
    assert f"Cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err
    assert made == []
    assert fake_unit == []


def test_a_busy_port_message_names_the_port_option(monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(serve.PortInUse) as raised:
            serve.check_port_free("127.0.0.1", port)

    assert f"`nox -s serve -- --port {port + 1}`" in str(raised.value)


def test_the_outbox_command_for_a_throwaway_database_carries_its_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5999/scheduler")
    monkeypatch.setenv("SECRET_KEY", "a key with spaces")
    app = RecordingApp("unused", commands={"outbox": object()})

    command = outbox_command(app, throwaway=True)

    flask = Path(sys.executable).with_name("flask")
    assert command == (
        "env DATABASE_URL=postgresql://postgres@127.0.0.1:5999/scheduler "
        f"SECRET_KEY='a key with spaces' {flask} --app /units/unit2_auth/scheduler outbox"
    )


def test_the_outbox_command_for_a_given_database_does_not_repeat_its_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://me:secret@db.example.edu/scheduler")
    app = RecordingApp("unused", commands={"outbox": object()})

    command = outbox_command(app, throwaway=False)

    assert "secret" not in command
    assert command.endswith(
        "--app /units/unit2_auth/scheduler outbox  (with the same DATABASE_URL and SECRET_KEY)"
    )


def test_a_unit_without_an_outbox_gets_no_outbox_command():
    assert outbox_command(RecordingApp("unused"), throwaway=True) is None


def test_serve_prints_the_outbox_command_where_the_unit_has_one(fake_unit, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setattr(sys, "argv", ["serve"])
    monkeypatch.setattr(
        sys.modules["scheduler"],
        "create_app",
        lambda: RecordingApp(os.environ["DATABASE_URL"], commands={"outbox": object()}),
    )

    serve.main()

    output = capsys.readouterr().out
    assert "Read the mail it queues" in output
    assert "--app /units/unit2_auth/scheduler outbox" in output
    assert "DATABASE_URL=postgresql://" in output


# A stand-in for a unit's `flask worker`: it mails through the SMTP server it was given, says
# so in a file, and on SIGTERM notes that it was asked to stop.
FAKE_WORKER = """
import os, signal, smtplib, sys, time
from pathlib import Path
folder = Path(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: (folder.joinpath("stopped").touch(), sys.exit(0)))
with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10) as smtp:
    smtp.sendmail("app@example.edu", ["ada@example.edu"],
                  "Subject: Your seat\\r\\n\\r\\nCS101 is yours.\\r\\n")
folder.joinpath("sent").touch()
time.sleep(60)
"""


def wait_for(path: Path) -> None:
    """Wait, boundedly, for a file to appear."""
    for _ in range(STARTUP_LINES):
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_serve_runs_the_units_worker_with_a_sink_that_prints_its_mail_and_stops_it(
    fake_unit, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", "")
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY"):  # serve sets them; restored after
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["serve"])
    monkeypatch.setattr(
        serve, "unit_command", lambda app, name: [sys.executable, "-c", FAKE_WORKER, str(tmp_path)]
    )

    def create_app():
        app = RecordingApp(os.environ["DATABASE_URL"], commands={"worker": object()})
        app.then = lambda: wait_for(tmp_path / "sent")  # the worker mailed while the app ran
        return app

    monkeypatch.setattr(sys.modules["scheduler"], "create_app", create_app)

    serve.main()

    assert (tmp_path / "stopped").exists()  # asked to stop when serve stopped
    output = capsys.readouterr().out
    assert "Background worker started" in output
    assert "--- Mail to ada@example.edu: Your seat\nCS101 is yours." in output


def test_serve_leaves_a_given_smtp_server_alone_and_a_unit_without_worker_runs_none(
    fake_unit, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("SMTP_HOST", "mail.example.edu")
    monkeypatch.setattr(sys, "argv", ["serve"])

    serve.main()

    assert os.environ["SMTP_HOST"] == "mail.example.edu"
    assert "worker" not in capsys.readouterr().out


# A stand-in unit that really serves: serve runs as its own process, as under nox.
FAKE_UNIT = """
from pathlib import Path

from flask import Flask

SCHEMA = Path({schema!r})


def create_schema(conn):
    for script in sorted(SCHEMA.glob("*.sql")):
        conn.execute(script.read_text())


def create_app():
    app = Flask("scheduler")
    app.get("/api/v1/health")(lambda: {{"status": "ok"}})
    return app
"""


def postgres_data_dirs(port: int) -> list[str]:
    """The data folders of the PostgreSQL servers listening on `port` (one, or none)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "-p" in cmdline and cmdline[cmdline.index("-p") + 1 : cmdline.index("-p") + 2] == [
            str(port)
        ]:
            found.append(cmdline[cmdline.index("-D") + 1])
    return found


@pytest.mark.parametrize("stop_signal", STOP_SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_serve_and_leaves_no_server_and_no_data_behind(tmp_path, stop_signal):
    unit = tmp_path / "scheduler"
    unit.mkdir()
    (unit / "__init__.py").write_text(textwrap.dedent(FAKE_UNIT.format(schema=str(UNIT1_SCHEMA))))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "PYTHONPATH": str(tmp_path), "DATABASE_URL": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler_common.serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while len(lines) < STARTUP_LINES and not any("Serving the API" in x for x in lines):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        [throwaway] = [line for line in lines if line.startswith("Throwaway PostgreSQL at")]
        database_port = int(throwaway.split("@127.0.0.1:")[1].split("/")[0])
        [data_dir] = postgres_data_dirs(database_port)
        assert Path(data_dir).is_dir()

        process.send_signal(stop_signal)
        output = process.communicate(timeout=120)[0]
    finally:
        process.kill()
        process.wait()

    assert process.returncode == 0, output
    assert "Stopping" in output
    assert postgres_data_dirs(database_port) == []
    assert not Path(data_dir).parent.exists()
