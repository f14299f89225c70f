"""create_app reads its settings through the settings table (which
tests/unit/test_settings_table.py checks by itself): a missing or malformed setting stops it
with a ConfigError that names the setting, and settings from the environment or from NAME_FILE
files reach the pool and the token signer."""

import pytest

from scheduler import create_app
from scheduler.config import SETTINGS, ConfigError
from scheduler_common.db import close_pool

SECRET_KEY = "k" * 32  # the shortest secret accepted: 32 bytes


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Start every test from an environment without any of the app's settings."""
    for name in (*SETTINGS, *(f"{name}_FILE" for name in SETTINGS)):
        monkeypatch.delenv(name, raising=False)


def test_create_app_without_database_url_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app()


def test_create_app_with_empty_database_url_raises_config_error_naming_it(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "")

    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app()


def test_create_app_with_non_numeric_pool_max_size_raises_config_error_naming_it(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/never-used")
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "ten")

    with pytest.raises(ConfigError, match="DB_POOL_MAX_SIZE") as raised:
        create_app()

    assert "ten" in str(raised.value)


def test_create_app_without_secret_key_raises_config_error_naming_it(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/never-used")

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_create_app_with_an_unreadable_secret_file_raises_config_error_naming_it(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/never-used")
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))

    with pytest.raises(ConfigError, match="SECRET_KEY_FILE"):
        create_app()


def test_too_short_secret_key_in_the_test_config_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": "postgresql://localhost/x", "SECRET_KEY": "k" * 31})


def test_create_app_reads_database_url_and_numbers_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "3")
    monkeypatch.setenv("DB_POOL_TIMEOUT", "2.5")

    app = create_app()
    try:
        assert app.config["DATABASE_URL"] == database_url
        assert app.config["SECRET_KEY"] == SECRET_KEY
        assert app.config["DB_POOL_MAX_SIZE"] == 3
        assert app.config["DB_POOL_TIMEOUT"] == 2.5
        assert app.extensions["scheduler_db_pool"].max_size == 3
        assert app.test_client().get("/api/v1/health").status_code == 200
    finally:
        close_pool(app)


def test_create_app_reads_the_database_url_and_the_secret_key_from_files(
    monkeypatch, tmp_path, database_url
):
    # As Compose mounts secrets: one file each, written with a trailing line break.
    (tmp_path / "database_url").write_text(database_url + "\n")
    (tmp_path / "secret_key").write_text(SECRET_KEY + "\n")
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "database_url"))
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "secret_key"))

    app = create_app()
    try:
        assert app.config["DATABASE_URL"] == database_url
        assert app.config["SECRET_KEY"] == SECRET_KEY
        assert app.test_client().get("/api/v1/health").json == {"status": "ok", "database": "ok"}
    finally:
        close_pool(app)
