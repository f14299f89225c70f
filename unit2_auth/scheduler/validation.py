"""Field rules for request bodies and query parameters, with voluptuous.

Every body and every query string goes through a schema at the boundary, before any work:
a bad body is a 422 and a bad query parameter a 400, each naming the field. Unknown fields
are refused, so a client can never set what it was not offered (say, `role`).
"""

import re
import unicodedata

from flask import request
from voluptuous import All, Invalid, MultipleInvalid, Optional, Required, Schema

from scheduler.errors import BadRequest, ValidationFailed
from scheduler.http import MAX_ID
from scheduler.security import MAX_PASSWORD_BYTES, MIN_PASSWORD_BYTES

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# Matched with fullmatch: `$` would also accept a trailing newline.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TERM_PATTERN = re.compile(r"[0-9]{4}-(spring|summer|fall|winter)")
TIME_PATTERN = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
COURSE_CODE_PATTERN = re.compile(r"[A-Z]{2,6}[0-9]{3,4}[A-Z]?")
DIGITS = re.compile(r"[0-9]{1,19}")


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


# --8<-- [start:query-term]
def query_term(value):
    """A ?term= filter, taken exactly as given (query strings are not trimmed)."""
    if not TERM_PATTERN.fullmatch(value):
        raise Invalid("Must look like 2027-spring (spring, summer, fall or winter).")
    return value
    # --8<-- [end:query-term]


course_code = matching(
    COURSE_CODE_PATTERN, "Must look like CS101: 2–6 letters, 3–4 digits.", transform=str.upper
)


# --8<-- [start:password]
def password(value):
    """A password of 8–72 bytes in UTF-8: bcrypt ignores bytes past 72, so longer is refused
    rather than silently cut (two passwords sharing 72 bytes would both log in)."""
    if not isinstance(value, str):
        raise Invalid("Must be a string.")
    size = len(value.encode())
    if not MIN_PASSWORD_BYTES <= size <= MAX_PASSWORD_BYTES:
        raise Invalid(
            f"Must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes long (this is {size})."
        )
    return value
    # --8<-- [end:password]


# --8<-- [start:given-password]
def given_password(value):
    """A password offered at login: a non-empty string, exactly as typed (never trimmed:
    passwords are stored as chosen, spaces and all). Its length rules are for new ones."""
    if not isinstance(value, str) or not value:
        raise Invalid("Must be a non-empty string.")
    if len(value) > 1024:
        raise Invalid("Must be at most 1024 characters.")
    return value
    # --8<-- [end:given-password]


# --8<-- [start:query-integer]
def query_integer(low: int, high: int):
    """A query-string integer within [low, high]: ASCII digits only ("²" and "١" are digits
    to str.isdigit), and few enough to be sane."""

    def check(value):
        if not DIGITS.fullmatch(value) or not low <= int(value) <= high:
            raise Invalid(f"Must be a whole number from {low} to {high}.")
        return int(value)

    return check
    # --8<-- [end:query-integer]


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


# --8<-- [start:validate]
def validate(schema: Schema, body: dict) -> dict:
    """Return the cleaned body, or fail with a 422 naming every bad field."""
    try:
        return schema(body)
    except MultipleInvalid as error:
        raise ValidationFailed(
            "The request body has invalid fields.", field_errors(error)
        ) from None


def field_errors(error: MultipleInvalid) -> dict[str, list[str]]:
    """Map voluptuous's errors to {field: [message, ...]} in plain words."""
    errors: dict[str, list[str]] = {}
    for invalid in error.errors:
        field = ".".join(str(part) for part in invalid.path) or "_body"
        message = invalid.msg
        if message == "extra keys not allowed":
            message = "Unknown field."
        elif message == "required key not provided":
            message = "This field is required."
        errors.setdefault(field, []).append(message)
    return errors
    # --8<-- [end:validate]


# --8<-- [start:validate-query]
# Defaults are written as a query string would carry them: voluptuous validates them too.
PAGE_QUERY = {
    Optional("limit", default=str(DEFAULT_LIMIT)): query_integer(1, MAX_LIMIT),
    Optional("offset", default="0"): query_integer(0, MAX_ID),
}
# Built once, as every schema here is: building one compiles its rules, which cost half of
# a query string's validation when it was done on every request.
PAGE_SCHEMA = Schema(PAGE_QUERY)


def validate_query(schema: Schema = PAGE_SCHEMA) -> dict:
    """Return the cleaned query parameters (paging by default), or fail with a 400."""
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise BadRequest(
            "Each query parameter may appear once.", {name: ["Given twice."] for name in repeated}
        )
    try:
        return schema(request.args.to_dict())
    except MultipleInvalid as error:
        raise BadRequest("The query string has invalid parameters.", field_errors(error)) from None


def page_params() -> tuple[int, int]:
    """Read `?limit=` (default 20, at most 100) and `?offset=`, refusing anything else."""
    query = validate_query()
    return query["limit"], query["offset"]
    # --8<-- [end:validate-query]
    # --8<-- [end:schemas-and-validate]
