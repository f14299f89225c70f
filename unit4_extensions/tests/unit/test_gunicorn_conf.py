"""gunicorn.conf.py takes the server's settings from the settings table: the same defaults,
types and bounds as the app's, and a bad one stops gunicorn before any worker starts."""

import runpy
from pathlib import Path

import pytest

from scheduler.config import SETTINGS

GUNICORN_CONF = Path(__file__).parents[2] / "gunicorn.conf.py"


@pytest.fixture
def environment(monkeypatch):
    """An environment with the required settings and none of the server's."""
    for name in (*SETTINGS, *(f"{name}_FILE" for name in SETTINGS)):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/never-used")
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    return monkeypatch


def test_the_defaults_serve_this_machine_on_port_8000(environment):
    conf = runpy.run_path(str(GUNICORN_CONF))

    assert conf["bind"] == "127.0.0.1:8000"
    assert (conf["workers"], conf["threads"], conf["timeout"], conf["keepalive"]) == (2, 16, 30, 5)


def test_host_port_and_workers_come_from_the_environment(environment):
    environment.setenv("HOST", "0.0.0.0")
    environment.setenv("PORT", "9000")
    environment.setenv("WEB_CONCURRENCY", "4")
    environment.setenv("GUNICORN_THREADS", "8")

    conf = runpy.run_path(str(GUNICORN_CONF))

    assert (conf["bind"], conf["workers"], conf["threads"]) == ("0.0.0.0:9000", 4, 8)


def test_an_ipv6_host_is_bracketed(environment):
    environment.setenv("HOST", "::")

    assert runpy.run_path(str(GUNICORN_CONF))["bind"] == "[::]:8000"


def test_the_port_may_come_from_a_file(environment, tmp_path):
    (tmp_path / "port").write_text("8443\n")
    environment.setenv("PORT_FILE", str(tmp_path / "port"))

    assert runpy.run_path(str(GUNICORN_CONF))["bind"] == "127.0.0.1:8443"


def test_bad_server_settings_stop_gunicorn_with_every_problem_and_exit_code_78(environment, capsys):
    environment.setenv("PORT", "http")
    environment.setenv("WEB_CONCURRENCY", "0")
    environment.delenv("SECRET_KEY")

    with pytest.raises(SystemExit) as raised:
        runpy.run_path(str(GUNICORN_CONF))

    assert raised.value.code == 78
    message = capsys.readouterr().err
    assert "PORT must be a whole number, not 'http'" in message
    assert "WEB_CONCURRENCY must be at least 1, not 0" in message
    assert "SECRET_KEY is not set" in message
