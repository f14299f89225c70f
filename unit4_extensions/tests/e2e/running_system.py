"""The whole system as separate processes, for the system tests (lesson 4.10): a PostgreSQL
server of its own (so a test may stop and start it), gunicorn with several workers, and
`flask worker` processes, each started as an operator would, with settings from the
environment. The SMTP sink, the OIDC provider and the model server are in-process HTTP and
SMTP servers the test starts (tests/smtp_sink.py, tests/oidc_servers.py,
tests/fake_model_server.py).

Every wait is bounded: a broken system fails the test with the processes' logs, never hangs.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.rows import dict_row
from settings import TEST_SECRET_KEY

from scheduler import create_schema
from scheduler_common.localdb import LocalPostgres, free_port

UNIT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "scheduler"]
STARTUP_TIMEOUT = 60  # seconds for gunicorn to answer /health on a busy machine
STOP_TIMEOUT = 30  # seconds a process has to exit after SIGTERM before it is killed
DATABASE = "scheduler_system"


def create_database(server: LocalPostgres) -> str:
    """Create this unit's schema in a new database on `server`; its URL."""
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(server.url(DATABASE)) as conn:
        create_schema(conn)
    return server.url(DATABASE)


def create_admin(env: dict[str, str], email: str, password: str) -> None:
    """Create an admin account as an operator does: `flask create-admin`, password on stdin."""
    subprocess.run(
        [*FLASK, "create-admin", email],
        input=f"{password}\n",
        cwd=UNIT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def app_environment(database_url: str, **settings: object) -> dict[str, str]:
    """The environment of every process of the system: this machine's, the database, a test
    key, fast password hashing, and `settings` (each value made a string, dicts and lists JSON)."""
    values = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "BCRYPT_ROUNDS": 4,
        **settings,
    }
    as_text = {
        name: json.dumps(value) if isinstance(value, dict | list) else str(value)
        for name, value in values.items()
    }
    return {**os.environ, **as_text}


@dataclass
class Processes:
    """The processes a test started; each is stopped (SIGTERM, then SIGKILL) at the end."""

    log_dir: Path
    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start `command` in this unit's folder, its output in LOG_DIR/NAME.log."""
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            cwd=UNIT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its children
        )
        log.close()
        self.started.append(process)
        return process

    # --8<-- [start:processes]
    def gunicorn(self, env: dict[str, str], *, workers: int = 3, **settings: object) -> str:
        """Serve the API with gunicorn (its settings: gunicorn.conf.py, from the environment)
        on a free port; return its base URL once /health answers."""
        port = free_port()
        env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
        env.update({name: str(value) for name, value in settings.items()})
        process = self.start("gunicorn", [sys.executable, "-m", "gunicorn"], env)
        base_url = f"http://127.0.0.1:{port}/api/v1"
        self.wait_until(lambda: answers(f"{base_url}/health"), STARTUP_TIMEOUT, process)
        return base_url

    def worker(self, env: dict[str, str]) -> subprocess.Popen:
        """Start one `flask worker`."""
        return self.start(f"worker-{len(self.started)}", [*FLASK, "worker"], env)
        # --8<-- [end:processes]

    def wait_until(
        self,
        condition: Callable[[], object],
        timeout: float,
        process: subprocess.Popen | None = None,
    ) -> object:
        """Poll `condition` until it is true (returned) or `timeout` seconds pass (an
        AssertionError with the logs); a `process` that exits meanwhile fails at once."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            if process is not None and process.poll() is not None:
                raise AssertionError(f"{process.args} exited with {process.returncode}\n{self}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout} s\n{self}")
            time.sleep(0.1)
        return result

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
        """Send `sig` to the process's group; its exit code (killed if it takes too long)."""
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode

    def stop_all(self) -> None:
        """Stop every process still running."""
        for process in reversed(self.started):
            self.stop(process)

    def __str__(self) -> str:
        """Every log, to explain a failure."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )


def answers(url: str) -> bool:
    """Whether GET `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def query(database_url: str, sql: str, *params) -> list[dict]:
    """Rows of one query on a connection of its own (the test's view of the database)."""
    with psycopg.connect(database_url, row_factory=dict_row, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()
