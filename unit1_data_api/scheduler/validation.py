"""Field rules for request bodies, with voluptuous, and the 422 they produce."""

import re
import unicodedata

from voluptuous import All, Invalid, MultipleInvalid, Optional, Required, Schema

from scheduler.errors import ValidationFailed
from scheduler.http import MAX_ID

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# Matched with fullmatch: `$` would also accept a trailing newline.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TERM_PATTERN = re.compile(r"[0-9]{4}-(spring|summer|fall|winter)")
TIME_PATTERN = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
COURSE_CODE_PATTERN = re.compile(r"[A-Z]{2,6}[0-9]{3,4}[A-Z]?")


def integer(low: int, high: int):
    """A JSON integer (not a boolean, not a float) within [low, high]."""

    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("Must be an integer.")
        if not low <= value <= high:
            raise Invalid(f"Must be between {low} and {high}.")
        return value

    return check


def reference():
    """An id of another record: a positive integer."""
    return integer(1, MAX_ID)


def text(max_length: int, *, blank: bool = False):
    """A string, trimmed, at most `max_length` characters, non-empty unless `blank`."""

    def check(value):
        if not isinstance(value, str):
            raise Invalid("Must be a string.")
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise Invalid("Must not contain NUL characters.")
        value = value.strip()
        if not value and not blank:
            raise Invalid("Must not be empty.")
        if len(value) > max_length:
            raise Invalid(f"Must be at most {max_length} characters.")
        return value

    return check


def matching(pattern: re.Pattern, message: str, *, transform=str):
    """A string that matches `pattern` once transformed (e.g. upper-cased)."""

    def check(value):
        if not isinstance(value, str) or not pattern.fullmatch(transform(value.strip())):
            raise Invalid(message)
        return transform(value.strip())

    return check


# --8<-- [start:email]
MAX_EMAIL_LENGTH = 254


def plain_email(value: str) -> str:
    """An email address in the one spelling we store, refusing what could pass for another.

    NFKC folds compatibility forms (fullwidth "ｊｏ＠ｅｘａｍｐｌｅ．ｅｄｕ" is jo@example.edu);
    the domain loses its trailing dot and is lower-cased, since DNS ignores both. What still
    looks like someone else's address is refused: invisible format characters (zero-width
    spaces, joiners) and anything outside ASCII, such as a Cyrillic "а" posing as a Latin
    "a". Internationalised addresses are therefore not accepted.
    """
    value = unicodedata.normalize("NFKC", value)
    if any(unicodedata.category(character) == "Cf" for character in value):
        raise Invalid("Must not contain invisible characters such as zero-width spaces.")
    if not value.isascii():
        raise Invalid("Must be written in ASCII characters only (look-alike letters are refused).")
    local_part, at, domain = value.rpartition("@")
    value = f"{local_part}{at}{domain.rstrip('.').lower()}"
    if len(value) > MAX_EMAIL_LENGTH:
        raise Invalid(f"Must be at most {MAX_EMAIL_LENGTH} characters.")
    return value


email = All(
    text(MAX_EMAIL_LENGTH), plain_email, matching(EMAIL_PATTERN, "Must be an email address.")
)
# --8<-- [end:email]
term = matching(TERM_PATTERN, "Must look like 2027-spring (spring, summer, fall or winter).")
clock_time = matching(TIME_PATTERN, "Must be a 24-hour time HH:MM, e.g. 09:00.")
course_code = matching(
    COURSE_CODE_PATTERN, "Must look like CS101: 2–6 letters, 3–4 digits.", transform=str.upper
)


def weekdays(value):
    """A non-empty list of distinct weekdays (MON … SUN)."""
    if not isinstance(value, list) or not value:
        raise Invalid('Must be a non-empty list of weekdays, e.g. ["MON", "WED"].')
    if any(day not in WEEKDAYS for day in value):
        raise Invalid(f"Each day must be one of {', '.join(WEEKDAYS)}.")
    if len(set(value)) != len(value):
        raise Invalid("Days must not repeat.")
    return value


# --8<-- [start:schemas-and-validate]
def body_schemas(fields: dict, *, optional: tuple[str, ...] = ()) -> tuple[Schema, Schema]:
    """Return (create, patch) schemas: fields required to create unless `optional`; any to patch."""
    create = Schema(
        {(Optional if key in optional else Required)(key): rule for key, rule in fields.items()}
    )
    patch = Schema({Optional(key): rule for key, rule in fields.items()})
    return create, patch


def validate(schema: Schema, body: dict) -> dict:
    """Return the cleaned body, or fail with a 422 naming every bad field."""
    try:
        return schema(body)
    except MultipleInvalid as error:
        errors: dict[str, list[str]] = {}
        for invalid in error.errors:
            field = ".".join(str(part) for part in invalid.path) or "_body"
            message = invalid.msg
            if message == "extra keys not allowed":
                message = "Unknown field."
            elif message == "required key not provided":
                message = "This field is required."
            errors.setdefault(field, []).append(message)
        raise ValidationFailed("The request body has invalid fields.", errors) from None
    # --8<-- [end:schemas-and-validate]
