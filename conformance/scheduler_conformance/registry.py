"""Checks, each tagged with the lesson it proves, and how a check says it failed or cannot run."""

from collections.abc import Callable
from dataclasses import dataclass

from scheduler_conformance.http import Exchange, Reply


@dataclass(frozen=True)
class Check:
    """One behaviour of the contract, tagged with the lesson that teaches it."""

    lesson: str
    title: str
    run: Callable


class CheckFailed(Exception):
    """The server's behaviour differs from the contract; `exchange` proves it."""

    def __init__(self, message: str, exchange: Exchange | None = None):
        super().__init__(message)
        self.message = message
        self.exchange = exchange


class CheckSkipped(Exception):
    """The check cannot run against this server as configured (the message says why)."""


CHECKS: list[Check] = []


def check(lesson: str, title: str):
    """Register the decorated function as the check `title` of `lesson`."""

    def register(function: Callable) -> Callable:
        """Add the check to the registry; the function itself is unchanged."""
        CHECKS.append(Check(lesson, title, function))
        return function

    return register


def expect(condition: bool, message: str, reply: Reply | None = None) -> None:
    """Fail the check with `message` (and the reply's exchange) unless `condition` holds."""
    if not condition:
        raise CheckFailed(message, reply.exchange if reply else None)


# Signs that an error body leaks internals instead of explaining the problem.
LEAKS = ("Traceback (most recent call last)", "psycopg", "SELECT ", "<html", "<!DOCTYPE")


def expect_status(reply: Reply, *statuses: int) -> Reply:
    """Fail unless the reply has one of `statuses`; return it for chaining."""
    wanted = " or ".join(str(status) for status in statuses)
    expect(reply.status in statuses, f"expected {wanted}, got {reply.status}", reply)
    return reply


def expect_json(reply: Reply, *statuses: int) -> dict | list:
    """Fail unless the reply has one of `statuses` and a JSON body; return the body."""
    expect_status(reply, *statuses)
    expect(reply.media_type == "application/json", "expected Content-Type application/json", reply)
    body = reply.json
    expect(body is not None, "the body is not valid JSON", reply)
    return body


def expect_problem(reply: Reply, status: int, *fields: str) -> dict:
    """Fail unless the reply is an RFC 9457 problem with `status`, naming each of `fields`
    in `errors`, and leaks no internals; return the body."""
    expect_status(reply, status)
    expect(
        reply.media_type == "application/problem+json",
        f"expected Content-Type application/problem+json, got {reply.media_type or 'none'}",
        reply,
    )
    body = reply.json
    expect(isinstance(body, dict), "the problem body is not a JSON object", reply)
    missing = [key for key in ("type", "title", "status", "detail") if key not in body]
    expect(not missing, f"the problem lacks {', '.join(missing)}", reply)
    expect(body["status"] == status, f'"status" says {body["status"]!r}, not {status}', reply)
    text = reply.body.decode("utf-8", errors="replace")
    leaked = [sign for sign in LEAKS if sign in text or sign.lower() in text]
    expect(not leaked, f"the error body leaks internals ({', '.join(leaked)})", reply)
    if fields:
        errors = body.get("errors")
        expect(isinstance(errors, dict), '"errors" must name the fields: {"field": [...]}', reply)
        unnamed = [name for name in fields if name not in errors]
        expect(not unnamed, f'"errors" does not name {", ".join(unnamed)}', reply)
    return body


def expect_envelope(reply: Reply, limit: int | None = None, offset: int | None = None) -> dict:
    """Fail unless the reply is a 200 list envelope (with this limit and offset); return it."""
    body = expect_json(reply, 200)
    expect(isinstance(body, dict), "a list answers an object, not a bare array", reply)
    for key in ("items", "total", "limit", "offset"):
        expect(key in body, f'the list envelope lacks "{key}"', reply)
    expect(isinstance(body["items"], list), '"items" must be a list', reply)
    expect(is_integer(body["total"]), '"total" must be an integer', reply)
    if limit is not None:
        expect(body["limit"] == limit, f'"limit" should be {limit}', reply)
        expect(len(body["items"]) <= limit, f"more than {limit} items on the page", reply)
    if offset is not None:
        expect(body["offset"] == offset, f'"offset" should be {offset}', reply)
    return body


def expect_keys(reply: Reply, value, keys: set[str], what: str) -> None:
    """Fail unless `value` is an object holding at least `keys`."""
    expect(isinstance(value, dict), f"{what} must be an object", reply)
    missing = sorted(keys - set(value))
    expect(not missing, f"{what} lacks {', '.join(missing)}", reply)


def is_integer(value) -> bool:
    """True for a JSON integer (booleans are not)."""
    return isinstance(value, int) and not isinstance(value, bool)
