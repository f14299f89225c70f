"""The settings table, read from a given environment (no Flask app, no database): defaults,
types, bounds, NAME_FILE, every problem reported at once, and never a secret's value in a
message. tests/integration/test_config.py and test_startup.py start the app itself."""

import pytest

from scheduler.config import SETTINGS, ConfigError, load_config

SECRET_KEY = "k" * 32  # the shortest secret accepted: 32 bytes
DATABASE_URL = "postgresql://scheduler:db-password-1@db:5432/scheduler"
REQUIRED = {"DATABASE_URL": DATABASE_URL, "SECRET_KEY": SECRET_KEY}
NUMERIC = [name for name, setting in SETTINGS.items() if isinstance(setting.default, int | float)]
WHOLE = [name for name in NUMERIC if isinstance(SETTINGS[name].default, int)]
FRACTIONAL = [name for name in NUMERIC if isinstance(SETTINGS[name].default, float)]


def problems(environ: dict, overrides: dict | None = None) -> str:
    """The message of the ConfigError that loading these settings raises."""
    with pytest.raises(ConfigError) as raised:
        load_config(overrides, environ=environ)
    return str(raised.value)


def secret_file(tmp_path, content: str, name: str = "secret") -> str:
    """Write a file as a secret mount would hold it; return its path."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_defaults_apply_to_every_optional_setting_when_the_environment_is_silent():
    config = load_config(environ=REQUIRED)

    for name, setting in SETTINGS.items():
        if setting.default is not None:
            assert config[name] == setting.default, name


def test_required_settings_have_no_default():
    assert SETTINGS["DATABASE_URL"].default is None
    assert SETTINGS["SECRET_KEY"].default is None


def test_every_missing_required_setting_is_named_in_one_error():
    message = problems({})

    assert "DATABASE_URL is not set" in message
    assert "SECRET_KEY is not set" in message
    assert "secrets.token_urlsafe" in message  # says how to make a key


@pytest.mark.parametrize("name", ["DATABASE_URL", "SECRET_KEY"])
def test_an_empty_required_setting_is_an_error_naming_it(name):
    assert f"{name} is empty" in problems({**REQUIRED, name: ""})


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [("PORT", "8080", 8080), ("DB_POOL_TIMEOUT", "2.5", 2.5), ("HOST", "0.0.0.0", "0.0.0.0")],
)
def test_a_setting_from_the_environment_has_its_type(name, raw, expected):
    assert load_config(environ={**REQUIRED, name: raw})[name] == expected


@pytest.mark.parametrize("name", WHOLE)
@pytest.mark.parametrize("raw", ["abc", "", "1,5", "2.5", "ten"])
def test_a_malformed_whole_number_is_an_error_naming_it_and_the_value(name, raw):
    message = problems({**REQUIRED, name: raw})

    assert f"{name} must be a whole number" in message
    if raw:
        assert repr(raw) in message


@pytest.mark.parametrize("name", FRACTIONAL)
@pytest.mark.parametrize("raw", ["abc", "", "1,5", "nan", "inf"])
def test_a_malformed_number_is_an_error_naming_it(name, raw):
    assert f"{name} must be a number" in problems({**REQUIRED, name: raw})


@pytest.mark.parametrize("name", [name for name in NUMERIC if SETTINGS[name].minimum is not None])
def test_a_number_below_its_minimum_is_an_error_and_the_minimum_itself_is_accepted(name):
    minimum = SETTINGS[name].minimum
    below = minimum - 1 if name in WHOLE else minimum - 0.5

    assert f"{name} must be at least {minimum}, not {below}" in problems(
        {**REQUIRED, name: str(below)}
    )
    assert load_config(environ={**REQUIRED, name: str(minimum)})[name] == minimum


@pytest.mark.parametrize(("name", "maximum"), [("PORT", 65535), ("BCRYPT_ROUNDS", 31)])
def test_a_number_above_its_maximum_is_an_error_and_the_maximum_itself_is_accepted(name, maximum):
    assert f"{name} must be at most {maximum}" in problems({**REQUIRED, name: str(maximum + 1)})
    assert load_config(environ={**REQUIRED, name: str(maximum)})[name] == maximum


def test_a_pool_whose_minimum_exceeds_its_maximum_is_an_error_naming_both():
    message = problems({**REQUIRED, "DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "4"})

    assert "DB_POOL_MIN_SIZE must be at most DB_POOL_MAX_SIZE (4), not 5" in message


def test_a_pool_minimum_equal_to_its_maximum_is_accepted():
    config = load_config(environ={**REQUIRED, "DB_POOL_MIN_SIZE": "4", "DB_POOL_MAX_SIZE": "4"})

    assert config["DB_POOL_MIN_SIZE"] == config["DB_POOL_MAX_SIZE"] == 4


def test_every_problem_is_reported_at_once_in_table_order_with_exit_code_78():
    environ = {"PORT": "0", "SECRET_KEY": "short", "WEB_CONCURRENCY": "many", "HOST": ""}

    with pytest.raises(ConfigError) as raised:
        load_config(environ=environ)

    named = [problem.split()[1] for problem in raised.value.problems]
    assert named == ["DATABASE_URL", "SECRET_KEY", "HOST", "PORT", "WEB_CONCURRENCY"]
    assert raised.value.exit_code == 78


@pytest.mark.parametrize(
    "secret", ["", "hunter2", "k" * 31, "é" * 15], ids=["empty", "7-bytes", "31-bytes", "30-bytes"]
)
def test_a_too_short_secret_key_is_an_error_naming_it_but_not_its_value(secret):
    message = problems({**REQUIRED, "SECRET_KEY": secret})

    assert "SECRET_KEY" in message
    if secret:
        assert secret not in message


@pytest.mark.parametrize("secret", [SECRET_KEY, "é" * 16], ids=["32-ascii", "16-two-byte"])
def test_a_secret_key_of_32_bytes_is_accepted(secret):
    assert load_config(environ={**REQUIRED, "SECRET_KEY": secret})["SECRET_KEY"] == secret


@pytest.mark.parametrize(
    "url", ["host=db port=5432 dbname=scheduler", "postgres://db/scheduler", DATABASE_URL]
)
def test_a_connection_string_or_url_is_accepted_as_database_url(url):
    assert load_config(environ={**REQUIRED, "DATABASE_URL": url})["DATABASE_URL"] == url


@pytest.mark.parametrize(
    "url", ["postgresql//admin:db-password-1@db", "db-password-1", "host=db 'db-password-1"]
)
def test_a_malformed_database_url_is_an_error_that_does_not_show_it(url):
    message = problems({**REQUIRED, "DATABASE_URL": url})

    assert "DATABASE_URL is not a PostgreSQL connection string or URL" in message
    assert "db-password-1" not in message


@pytest.mark.parametrize("ending", ["", "\n", "\r\n", "\n\n"])
def test_a_secret_from_a_file_is_its_content_without_the_trailing_line_break(tmp_path, ending):
    path = secret_file(tmp_path, SECRET_KEY + ending)

    config = load_config(environ={"DATABASE_URL": DATABASE_URL, "SECRET_KEY_FILE": path})

    assert config["SECRET_KEY"] == SECRET_KEY


def test_a_file_keeps_the_spaces_inside_and_around_its_content(tmp_path):
    secret = f"  {SECRET_KEY} with spaces  "
    path = secret_file(tmp_path, secret + "\n")

    config = load_config(environ={"DATABASE_URL": DATABASE_URL, "SECRET_KEY_FILE": path})

    assert config["SECRET_KEY"] == secret


def test_any_setting_may_come_from_a_file_and_is_parsed_as_from_the_environment(tmp_path):
    environ = {
        "DATABASE_URL_FILE": secret_file(tmp_path, DATABASE_URL + "\n", "database_url"),
        "SECRET_KEY_FILE": secret_file(tmp_path, SECRET_KEY + "\n", "secret_key"),
        "PORT_FILE": secret_file(tmp_path, "8081\n", "port"),
    }

    config = load_config(environ=environ)

    assert (config["DATABASE_URL"], config["SECRET_KEY"], config["PORT"]) == (
        DATABASE_URL,
        SECRET_KEY,
        8081,
    )


def test_a_setting_and_its_file_both_set_is_an_error_naming_both(tmp_path):
    environ = {**REQUIRED, "SECRET_KEY_FILE": secret_file(tmp_path, SECRET_KEY)}

    message = problems(environ)

    assert "SECRET_KEY and SECRET_KEY_FILE are both set" in message
    assert SECRET_KEY not in message


def test_a_missing_file_is_an_error_naming_the_variable_and_the_path(tmp_path):
    path = str(tmp_path / "no-such-secret")

    message = problems({"SECRET_KEY": SECRET_KEY, "DATABASE_URL_FILE": path})

    assert f"DATABASE_URL_FILE: cannot read {path} (No such file or directory)" in message


def test_a_directory_instead_of_a_file_is_an_error_naming_the_variable_and_the_path(tmp_path):
    message = problems({"DATABASE_URL": DATABASE_URL, "SECRET_KEY_FILE": str(tmp_path)})

    assert f"SECRET_KEY_FILE: cannot read {tmp_path} (Is a directory)" in message


def test_an_empty_file_variable_is_an_error_naming_it():
    assert "SECRET_KEY_FILE is empty" in problems(
        {"DATABASE_URL": DATABASE_URL, "SECRET_KEY_FILE": ""}
    )


def test_a_file_that_is_not_utf8_is_an_error_that_shows_none_of_its_bytes(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"\xff\xfe" + SECRET_KEY.encode())

    message = problems({"DATABASE_URL": DATABASE_URL, "SECRET_KEY_FILE": str(path)})

    assert f"SECRET_KEY_FILE: {path} is not UTF-8 text" in message
    assert "xff" not in message
    assert SECRET_KEY not in message


@pytest.mark.parametrize("content", ["", "\n"], ids=["empty", "only-a-line-break"])
def test_an_empty_file_is_an_empty_setting(tmp_path, content):
    path = secret_file(tmp_path, content)

    message = problems({"DATABASE_URL": DATABASE_URL, "SECRET_KEY_FILE": path})

    assert f"SECRET_KEY (from SECRET_KEY_FILE={path}) is empty" in message


def test_a_short_secret_from_a_file_names_the_file_but_never_the_content(tmp_path):
    path = secret_file(tmp_path, "hunter2-too-short\n")

    message = problems({"DATABASE_URL": DATABASE_URL, "SECRET_KEY_FILE": path})

    assert f"SECRET_KEY (from SECRET_KEY_FILE={path}) must be at least 32 bytes long" in message
    assert "hunter2" not in message


def test_a_malformed_database_url_from_a_file_is_not_shown(tmp_path):
    path = secret_file(tmp_path, "postgresql//admin:db-password-1@db\n")

    message = problems({"SECRET_KEY": SECRET_KEY, "DATABASE_URL_FILE": path})

    assert f"DATABASE_URL (from DATABASE_URL_FILE={path}) is not a PostgreSQL" in message
    assert "db-password-1" not in message


def test_the_test_config_overrides_the_environment_and_may_add_more():
    config = load_config(
        {"DATABASE_URL": "postgresql://localhost/from-test", "TESTING": True},
        environ={**REQUIRED, "DATABASE_URL": "postgresql://localhost/from-env"},
    )

    assert config["DATABASE_URL"] == "postgresql://localhost/from-test"
    assert config["TESTING"] is True


def test_the_test_config_is_held_to_the_same_bounds():
    message = problems({}, {"DATABASE_URL": DATABASE_URL, "SECRET_KEY": "k" * 31, "PORT": 0})

    assert "SECRET_KEY must be at least 32 bytes long" in message
    assert "PORT must be at least 1, not 0" in message
