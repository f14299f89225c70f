"""How a setting's text becomes its value (scheduler.config's SETTINGS table uses these): each
parser returns the value or raises ValueError saying what is wrong, never quoting a secret."""

import math
from collections.abc import Callable

import psycopg


def whole_number(raw: str) -> int:
    """Parse a whole number."""
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be a whole number") from None


def number(raw: str) -> float:
    """Parse a finite number (a decimal point is allowed)."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError("must be a number")
    return value


def text(raw: str) -> str:
    """Take the text as it is, unless there is none."""
    if not raw:
        raise ValueError("is empty")
    return raw


def one_of(*choices: str) -> Callable[[str], str]:
    """A parser that accepts one of these words."""

    def choice(raw: str) -> str:
        """Accept the text if it is one of the choices."""
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return raw

    return choice


def connection_string(raw: str) -> str:
    """Check that the text is a libpq connection string or a postgresql:// URL."""
    try:
        psycopg.conninfo.conninfo_to_dict(text(raw))
    except psycopg.ProgrammingError:  # its message quotes the text, which may hold a password
        raise ValueError("is not a PostgreSQL connection string or URL") from None
    return raw
