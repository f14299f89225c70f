"""The benchmark's servers: one throwaway PostgreSQL, a seeded database per scale, and the
unit and the bare app each under gunicorn."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from scheduler_common.localdb import LocalPostgres, free_port, running_postgres

BENCHMARKS = Path(__file__).parent
# Both apps get the same gunicorn: a worker per core, 32 threads each. More threads than the
# logins the benchmark runs at once: a login waiting for its process's bcrypt slot holds a
# thread, and a cheap request behind a process whose every thread is taken waits for one.
GUNICORN_OPTIONS = ("--workers", "2", "--worker-class", "gthread", "--threads", "32")
UNIT_APP = "scheduler:create_app()"
BARE_APP = "bare_app:create_app()"
STATEMENT_STATS = {"shared_preload_libraries": "pg_stat_statements"}
STARTUP_TIMEOUT = 60  # seconds for gunicorn to answer its first request


def start_postgres(stack: ExitStack) -> tuple[LocalPostgres, bool]:
    """Start the throwaway server for the life of `stack`, with pg_stat_statements loaded
    where the server has it; return the server and whether statements can be counted."""
    try:
        return stack.enter_context(running_postgres(STATEMENT_STATS)), True
    except RuntimeError:  # this PostgreSQL comes without the extension
        return stack.enter_context(running_postgres()), False


def flask_command(*args: str, env: dict) -> str:
    """Run one of the unit's `flask` commands and return what it printed."""
    command = [sys.executable, "-m", "flask", "--app", "scheduler", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def prepare_database(server: LocalPostgres, scale: int, env: dict, counting: bool) -> str:
    """Create and seed the database of one scale with the unit's own commands, as a student
    would; analyze it, so that every run starts from the same plans; return its URL."""
    name = f"bench_scale_{scale}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {**env, "DATABASE_URL": server.url(name)}
    flask_command("init-db", env=env)
    # Seeded accounts log in with the development password; newer seeds ask for them.
    accounts = (
        ["--dev-accounts"] if "--dev-accounts" in flask_command("seed", "--help", env=env) else []
    )
    flask_command("seed", "--scale", str(scale), *accounts, env=env)
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        if counting:
            conn.execute("CREATE EXTENSION pg_stat_statements")
    return env["DATABASE_URL"]


def drop_database(server: LocalPostgres, url: str) -> None:
    """Drop a scale's database once both apps are gone (the RAM disk is not endless)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def wait_until_up(base_url: str, process: subprocess.Popen, log: Path) -> None:
    """Return once the app answers; fail with its log if it dies or never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/v1/courses?limit=1", timeout=5):
                return
        # TimeoutError: a first answer slower than 5 s on a busy machine; ask again.
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in {STARTUP_TIMEOUT} s:\n{log.read_text()}")


@contextmanager
def serving(app: str, database_url: str, env: dict, log_dir: Path) -> Iterator[str]:
    """Serve `app` with gunicorn on a free port for the block; yield its base URL."""
    port = free_port()
    log = log_dir / f"gunicorn-{port}.log"
    command = [sys.executable, "-m", "gunicorn", *GUNICORN_OPTIONS, "--bind", f"127.0.0.1:{port}"]
    command += ["--chdir", str(BENCHMARKS), app]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env={**env, "DATABASE_URL": database_url}, stdout=output, stderr=output
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


class LoadDriver:
    """The locust process (load.py): one scenario in, one result out."""

    def __init__(self, stack: ExitStack):
        self.process = subprocess.Popen(
            [sys.executable, str(BENCHMARKS / "load.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(self.close)

    def run(self, scenario: dict) -> dict:
        """Run one scenario and return its summary per request name."""
        self.process.stdin.write(json.dumps(scenario) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load driver died (its error is printed above)")
        return json.loads(line)

    def close(self) -> None:
        """Let the driver finish (its input ends) and wait for it."""
        self.process.stdin.close()
        self.process.wait(timeout=30)


def base_env() -> dict:
    """The environment both apps run in: ours, with a throwaway signing key, and none of
    the caller's database or pool settings (both apps must get the unit's defaults)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DB_")}
    env.pop("DATABASE_URL", None)
    env["SECRET_KEY"] = os.urandom(32).hex()
    return env
