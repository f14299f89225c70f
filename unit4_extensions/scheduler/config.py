"""Settings from the environment, checked once at start-up (lesson 4.3).

SETTINGS is the one table of every setting: its type, its default and its bounds. Where the
database is and the key that signs tokens have no default: they differ per deployment and
are secret. Any setting NAME may also come from the file that NAME_FILE names, which is how
Docker and Compose hand secrets to a container. `load_config` reports every problem at once
and never shows a secret's value.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from scheduler.config_values import connection_string, number, one_of, text, whole_number
from scheduler.oidc import issuers_setting


class ConfigError(click.ClickException):
    """One or more settings are missing or malformed; the message lists every problem.

    A click exception, so that every `flask` command (`run` and `init-db` too) stops with
    this message and no traceback.
    """

    exit_code = 78  # EX_CONFIG in sysexits.h: "a configuration error", for supervisors

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(["The settings are not valid:", *problems]))
        self.problems = problems


Value = int | float | str


@dataclass(frozen=True)
class Setting:
    """How to read one setting, and which values are valid."""

    parse: Callable[[str], Value]
    default: Value | None = None  # None: required
    minimum: int | str | None = None  # a number's least value, a text's fewest bytes
    maximum: int | str | None = None  # a number, or the name of the setting that bounds it
    secret: bool = False  # never shown in a message: a key, or a URL that may hold a password
    hint: str = ""  # what to do about a problem with it


# --8<-- [start:settings]
SETTINGS = {
    "DATABASE_URL": Setting(
        connection_string,
        secret=True,
        hint="Point it at a PostgreSQL database, e.g. postgresql://localhost/scheduler "
        "(or run `nox -s serve`, which starts a throwaway one).",
    ),
    "SECRET_KEY": Setting(
        text,
        minimum=32,  # bytes: it signs every access token
        secret=True,
        hint="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
    ),
    "DB_POOL_MIN_SIZE": Setting(whole_number, 1, minimum=0, maximum="DB_POOL_MAX_SIZE"),
    "DB_POOL_MAX_SIZE": Setting(whole_number, 10, minimum=1),
    "DB_POOL_TIMEOUT": Setting(number, 5.0, minimum=0),  # seconds a request waits; then 503
    # Seconds before the database gives up on a statement, or on waiting for a lock, and the
    # request answers 503: a stuck lock never holds a worker until the server kills it.
    "DB_STATEMENT_TIMEOUT": Setting(number, 10.0, minimum=0),  # 0: no limit
    "DB_LOCK_TIMEOUT": Setting(number, 5.0, minimum=0),
    "MAX_CONTENT_LENGTH": Setting(whole_number, 64 * 1024, minimum=1),  # bytes; then 413
    "ACCESS_TOKEN_TTL": Setting(whole_number, 15 * 60, minimum=1),  # seconds; cannot be revoked
    "REFRESH_TOKEN_TTL": Setting(whole_number, 14 * 24 * 3600, minimum=1),
    "VERIFICATION_TTL": Setting(whole_number, 24 * 3600, minimum=1),
    "BCRYPT_ROUNDS": Setting(whole_number, 12, minimum=4, maximum=31),  # what bcrypt accepts
    "LOGIN_WINDOW": Setting(whole_number, 15 * 60, minimum=1),  # seconds a failure counts
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": Setting(whole_number, 10, minimum=1),
    "LOGIN_MAX_FAILURES_PER_CLIENT": Setting(whole_number, 50, minimum=1),
    # gunicorn's (gunicorn.conf.py reads them from here). Outside a container the server
    # listens on this machine only; a container sets HOST=0.0.0.0 to be reachable at all.
    "HOST": Setting(text, "127.0.0.1"),
    "PORT": Setting(whole_number, 8000, minimum=1, maximum=65535),
    "WEB_CONCURRENCY": Setting(whole_number, 2, minimum=1),  # processes
    "GUNICORN_THREADS": Setting(whole_number, 16, minimum=1),  # per process
    "GUNICORN_TIMEOUT": Setting(whole_number, 30, minimum=1),  # seconds
    "GUNICORN_KEEPALIVE": Setting(whole_number, 5, minimum=1),  # seconds
    # Seconds the requests in flight may take to finish after SIGTERM, before they are killed.
    "GUNICORN_GRACEFUL_TIMEOUT": Setting(whole_number, 30, minimum=0),
    # The background worker (`flask worker`, lesson 4.9).
    "WORKER_CONCURRENCY": Setting(whole_number, 4, minimum=1),  # jobs at once, per process
    "WORKER_SHUTDOWN_TIMEOUT": Setting(number, 30.0, minimum=0),  # seconds jobs may finish in
    # Outgoing mail, which the worker sends from the outbox.
    "SMTP_HOST": Setting(text, "localhost"),
    "SMTP_PORT": Setting(whole_number, 1025, minimum=1, maximum=65535),
    # none: plain text (a sink on this machine); starttls: upgrade on the port (587);
    # tls: TLS from the first byte (465).
    "SMTP_SECURITY": Setting(one_of("none", "starttls", "tls"), "none"),
    "SMTP_USERNAME": Setting(text, ""),  # empty: the server takes mail without a login
    "SMTP_PASSWORD": Setting(text, "", secret=True),
    "SMTP_TIMEOUT": Setting(number, 10.0, minimum=1),  # seconds for each SMTP exchange
    "MAIL_FROM": Setting(text, "Course Scheduler <no-reply@scheduler.localhost>"),
    # How a worker shows it is alive: it beats its heart in the database this often, and one
    # silent for WORKER_STALLED_AFTER is taken for dead (its running jobs are run again).
    "WORKER_HEARTBEAT": Setting(number, 10.0, minimum=0.1),  # seconds
    "WORKER_STALLED_AFTER": Setting(number, 30.0, minimum=1),  # seconds
    # The course advisor (lessons 4.7 and 4.8): offline, deterministic and free, unless an
    # OpenAI-compatible server is configured (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp).
    "ADVISOR_PROVIDER": Setting(one_of("offline", "openai"), "offline"),
    "ADVISOR_BASE_URL": Setting(text, ""),  # empty: OpenAI's own API
    "ADVISOR_API_KEY": Setting(text, "", secret=True),  # empty: a server that wants none
    "ADVISOR_MODEL": Setting(text, "gpt-4o-mini"),
    "ADVISOR_TIMEOUT": Setting(number, 30.0, minimum=0),  # seconds, for each attempt
    "ADVISOR_MAX_RETRIES": Setting(whole_number, 2, minimum=0),  # on timeouts, 429 and 5xx
    "ADVISOR_PLANS_PER_DAY": Setting(whole_number, 10, minimum=1),  # per student; then 429
    "ADVISOR_CONCURRENCY": Setting(whole_number, 2, minimum=1),  # model calls at once, in all
    # External sign-in (lesson 4.6): the OpenID Connect issuers whose tokens count too (JSON).
    "OIDC_ISSUERS": Setting(issuers_setting, "[]", hint="See .env.example for its format."),
    "OIDC_JWKS_CACHE_TTL": Setting(whole_number, 3600, minimum=1),  # seconds keys are kept
    # However many tokens name a key we do not know, an issuer hears from us once per interval.
    "OIDC_JWKS_MIN_REFETCH_INTERVAL": Setting(whole_number, 60, minimum=1),
    "OIDC_LEEWAY": Setting(whole_number, 30, minimum=0, maximum=300),  # seconds of clock skew
    "OIDC_HTTP_TIMEOUT": Setting(number, 5.0, minimum=1),  # seconds for each fetch of keys
}
# --8<-- [end:settings]


def load_config(overrides: dict | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """Return the app's settings, each from `overrides` (tests), else the environment, else
    its default; raise one ConfigError that lists every problem."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    config, sources, problems = {}, {}, {}
    for name, setting in SETTINGS.items():
        try:
            if name in overrides:
                config[name], sources[name] = overrides[name], ""
            else:
                config[name], sources[name] = read(name, setting, environ)
        except ValueError as problem:
            problems[name] = str(problem)
    # Bounds once every value is read: a bound may be another setting's value.
    for name, value in config.items():
        if problem := out_of_bounds(SETTINGS[name], value, config):
            problems[name] = describe(name, sources[name], problem)
    if problems:
        raise ConfigError([problems[name] for name in SETTINGS if name in problems])
    return {**config, **overrides}  # overrides may hold more than settings (TESTING, CLOCK)


def describe(name: str, source: str, problem: str) -> str:
    """One line of a ConfigError: the setting, where its value came from, what is wrong, and
    what to do about it."""
    return f"  - {name}{source} {problem}. {SETTINGS[name].hint}".rstrip()


# --8<-- [start:read]
def read(name: str, setting: Setting, environ: Mapping[str, str]) -> tuple[Value, str]:
    """Return one setting's value, and where it came from for messages: NAME, or the file
    NAME_FILE names (its content without the trailing line break), or the default."""
    file_variable = f"{name}_FILE"
    if file_variable in environ:
        if name in environ:
            raise ValueError(f"  - {name} and {file_variable} are both set: set only one of them.")
        path = environ[file_variable]
        raw, source = read_file(file_variable, path), f" (from {file_variable}={path})"
    elif name in environ:
        raw, source = environ[name], ""
    elif setting.default is None:
        raise ValueError(describe(name, "", "is not set"))
    else:
        return setting.default, ""
    try:
        return setting.parse(raw), source
    except ValueError as problem:
        shown = "" if setting.secret or not raw else f", not {raw!r}"
        raise ValueError(describe(name, source, f"{problem}{shown}")) from None
        # --8<-- [end:read]


def read_file(variable: str, path: str) -> str:
    """Return the content of the file a NAME_FILE variable names, without its trailing line
    break; a problem names the variable and the path, never the content."""
    if not path:
        raise ValueError(f"  - {variable} is empty: it should name a file.")
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise ValueError(f"  - {variable}: cannot read {path} ({error.strerror}).") from None
    except UnicodeDecodeError:  # its message quotes a byte of the content
        raise ValueError(f"  - {variable}: {path} is not UTF-8 text.") from None


def out_of_bounds(setting: Setting, value: Value, config: dict) -> str | None:
    """Say how a value breaks its setting's bounds, or return None when it keeps them."""
    size = len(value.encode()) if isinstance(value, str) else value
    unit = " bytes long" if isinstance(value, str) else ""
    shown = "" if setting.secret else f", not {value}"
    low, high = limit(setting.minimum, config), limit(setting.maximum, config)
    if low is not None and size < low[0]:
        return f"must be at least {low[1]}{unit}{shown}"
    if high is not None and size > high[0]:
        return f"must be at most {high[1]}{unit}{shown}"
    return None


def limit(bound: int | str | None, config: dict) -> tuple[Value, str] | None:
    """A bound's value and how to name it: a number, or another setting's value (once that
    setting is valid itself)."""
    if isinstance(bound, str):
        return None if bound not in config else (config[bound], f"{bound} ({config[bound]})")
    return None if bound is None else (bound, str(bound))
