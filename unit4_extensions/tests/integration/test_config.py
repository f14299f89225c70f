"""Settings come from the environment and are checked at start-up: a missing DATABASE_URL, a
missing or short SECRET_KEY or a malformed number stops create_app with a ConfigError that
names the setting."""

import pytest

from scheduler import create_app
from scheduler.config import ConfigError, load_config
from scheduler_common.db import close_pool

NUMERIC_SETTINGS = ("DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE", "DB_POOL_TIMEOUT", "MAX_CONTENT_LENGTH")
SECRET_KEY = "k" * 32  # the shortest secret accepted: 32 bytes


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Start every test from an environment without any of the app's settings."""
    for name in ("DATABASE_URL", "SECRET_KEY", *NUMERIC_SETTINGS):
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


@pytest.mark.parametrize("name", NUMERIC_SETTINGS)
@pytest.mark.parametrize("raw", ["abc", "", "1,5"])
def test_any_malformed_numeric_setting_raises_config_error_naming_it(monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)

    with pytest.raises(ConfigError, match=name):
        load_config({"DATABASE_URL": "postgresql://localhost/never-used"})


def test_integer_setting_with_a_fraction_raises_config_error(monkeypatch):
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "2.5")

    with pytest.raises(ConfigError, match="DB_POOL_MAX_SIZE"):
        load_config({"DATABASE_URL": "postgresql://localhost/never-used"})


def test_create_app_without_secret_key_raises_config_error_naming_it(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/never-used")

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize(
    "secret", ["", "hunter2", "k" * 31, "é" * 15], ids=["empty", "7-bytes", "31-bytes", "30-bytes"]
)
def test_too_short_secret_key_raises_config_error_naming_it_but_not_its_value(monkeypatch, secret):
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/never-used")
    monkeypatch.setenv("SECRET_KEY", secret)

    with pytest.raises(ConfigError, match="SECRET_KEY") as raised:
        create_app()

    if secret:
        assert secret not in str(raised.value)


def test_too_short_secret_key_in_the_test_config_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"DATABASE_URL": "postgresql://localhost/x", "SECRET_KEY": "k" * 31})


@pytest.mark.parametrize("secret", [SECRET_KEY, "é" * 16], ids=["32-ascii", "16-two-byte"])
def test_secret_key_of_32_bytes_from_the_environment_is_accepted(monkeypatch, secret):
    monkeypatch.setenv("SECRET_KEY", secret)

    config = load_config({"DATABASE_URL": "postgresql://localhost/x"})

    assert config["SECRET_KEY"] == secret


def test_defaults_apply_when_the_environment_is_silent():
    config = load_config({"DATABASE_URL": "postgresql://localhost/x", "SECRET_KEY": SECRET_KEY})

    assert config["DB_POOL_MAX_SIZE"] == 10
    assert config["MAX_CONTENT_LENGTH"] == 64 * 1024


def test_test_config_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/from-env")

    config = load_config(
        {"DATABASE_URL": "postgresql://localhost/from-test", "SECRET_KEY": SECRET_KEY}
    )

    assert config["DATABASE_URL"] == "postgresql://localhost/from-test"


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
