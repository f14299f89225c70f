"""Start-up failures as an operator meets them: `flask` commands and gunicorn, each run as its
own process in this unit's folder, stop with exit code 78 and one message that names every
bad setting, without a traceback and without any secret's value."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.config import SETTINGS

UNIT = Path(__file__).parents[2]
SECRET_KEY = "k" * 32
EX_CONFIG = 78


def run(*command: str, **settings: str) -> subprocess.CompletedProcess:
    """Run `python -m COMMAND` in the unit's folder with only these of the app's settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS and name.removesuffix("_FILE") not in SETTINGS
    }
    # flask would read a developer's own .env file (python-dotenv is installed): not here.
    env |= {"FLASK_SKIP_DOTENV": "1", **settings}
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=UNIT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", [("init-db",), ("outbox",), ("run", "--port", "0")])
def test_a_flask_command_without_settings_exits_78_naming_each_missing_one(command):
    result = run("flask", "--app", "scheduler", *command)

    assert result.returncode == EX_CONFIG
    assert "DATABASE_URL is not set" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_flask_command_never_prints_a_secret_it_rejects(tmp_path):
    (tmp_path / "secret_key").write_text("hunter2-is-too-short\n")

    result = run(
        "flask",
        "--app",
        "scheduler",
        "outbox",
        DATABASE_URL="postgresql//admin:db-password-1@db/scheduler",
        SECRET_KEY_FILE=str(tmp_path / "secret_key"),
    )

    assert result.returncode == EX_CONFIG
    assert "DATABASE_URL is not a PostgreSQL connection string" in result.stderr
    assert "SECRET_KEY (from SECRET_KEY_FILE=" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "db-password-1" not in result.stdout + result.stderr


def test_a_flask_command_runs_on_settings_from_files(tmp_path, database_url):
    (tmp_path / "database_url").write_text(database_url + "\n")
    (tmp_path / "secret_key").write_text(SECRET_KEY + "\n")

    result = run(
        "flask",
        "--app",
        "scheduler",
        "outbox",
        DATABASE_URL_FILE=str(tmp_path / "database_url"),
        SECRET_KEY_FILE=str(tmp_path / "secret_key"),
    )

    assert (result.returncode, result.stdout) == (0, "No mail in the outbox matches.\n")


def test_gunicorn_with_bad_server_settings_exits_78_before_starting_a_worker():
    result = run(
        "gunicorn",
        "--check-config",
        DATABASE_URL="postgresql://localhost/never-used",
        SECRET_KEY=SECRET_KEY,
        PORT="80 80",
        GUNICORN_THREADS="0",
    )

    assert result.returncode == EX_CONFIG
    assert "PORT must be a whole number, not '80 80'" in result.stderr
    assert "GUNICORN_THREADS must be at least 1, not 0" in result.stderr
    assert "Traceback" not in result.stderr
