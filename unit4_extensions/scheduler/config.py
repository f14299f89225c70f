"""Settings from the environment, checked once at start-up."""

import os


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


DEFAULTS = {
    "DB_POOL_MIN_SIZE": 1,
    "DB_POOL_MAX_SIZE": 10,
    "DB_POOL_TIMEOUT": 5.0,  # seconds a request waits for a connection before a 503
    # --8<-- [start:database-timeouts]
    # Seconds before the database gives up on a statement, or on waiting for a lock, and the
    # request answers 503: a stuck lock never holds a worker until the server kills it.
    "DB_STATEMENT_TIMEOUT": 10.0,
    "DB_LOCK_TIMEOUT": 5.0,
    # --8<-- [end:database-timeouts]
    "MAX_CONTENT_LENGTH": 64 * 1024,  # larger bodies get a 413
    # --8<-- [start:auth-settings]
    "ACCESS_TOKEN_TTL": 15 * 60,  # seconds; short, because an access token cannot be revoked
    "REFRESH_TOKEN_TTL": 14 * 24 * 3600,
    "VERIFICATION_TTL": 24 * 3600,
    "BCRYPT_ROUNDS": 12,
    "LOGIN_WINDOW": 15 * 60,  # failed logins count against the limits for this long
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 10,
    "LOGIN_MAX_FAILURES_PER_CLIENT": 50,
    # --8<-- [end:auth-settings]
}
MIN_SECRET_KEY_BYTES = 32


def load_config(overrides: dict | None = None) -> dict:
    """Return the app's settings: defaults, then the environment, then `overrides` (tests)."""
    config = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        if name in os.environ:
            config[name] = _parse(name, os.environ[name], type(default))
    for name in ("DATABASE_URL", "SECRET_KEY"):
        if name in os.environ:
            config[name] = os.environ[name]
    config.update(overrides or {})
    if not config.get("DATABASE_URL"):
        raise ConfigError(
            "DATABASE_URL is not set. Point it at a PostgreSQL database, e.g. "
            "DATABASE_URL=postgresql://localhost/scheduler (or run `nox -s serve`, "
            "which starts a throwaway one)."
        )
    # --8<-- [start:secret-key]
    if len(config.get("SECRET_KEY", "").encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_BYTES} bytes of secret: it signs "
            "every access token. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
        # --8<-- [end:secret-key]
    return config


def _parse(name: str, raw: str, kind: type) -> int | float:
    """Turn one numeric environment variable into its type, or say clearly what is wrong."""
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {kind.__name__}, not {raw!r}.") from None
