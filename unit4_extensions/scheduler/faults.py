"""Faults at the edges: text the database cannot store, database timeouts, and URLs that name
no id. Without these handlers each would be a 500 or a vague 404 (lesson 1.8)."""

import itertools
import logging
import re

import psycopg
from flask import Flask, Response, request
from psycopg import errors as pg_errors
from werkzeug.exceptions import NotFound as WerkzeugNotFound

from scheduler.errors import problem

logger = logging.getLogger(__name__)

# --8<-- [start:fault-handlers]
RESOURCE_NOUNS = {
    "courses": "course",
    "instructors": "instructor",
    "rooms": "room",
    "students": "student",
    "sections": "section",
    "enrollments": "enrolled student",
}
ID_SEGMENT = re.compile(r"[1-9][0-9]{0,18}")  # the URL ids http.IdConverter accepts


def unmatched_id_detail(path: str) -> str | None:
    """Say which resource a 404 path named with something that is not an id, if it did."""
    segments = path.split("/")
    for noun_segment, id_segment in itertools.pairwise(segments):
        noun = RESOURCE_NOUNS.get(noun_segment)
        if noun and not ID_SEGMENT.fullmatch(id_segment):
            return (
                f"No {noun} with id {id_segment[:40]!r}: ids are positive whole numbers "
                "(at most 19 digits)."
            )
    return None


def register_fault_handlers(app: Flask) -> None:
    """Answer faults the generic handlers would turn into a 500 or a vague 404."""

    @app.errorhandler(UnicodeEncodeError)
    def handle_unencodable_text(error: UnicodeEncodeError) -> Response:
        # json_body refuses lone surrogates; this catches any text that slipped past it
        # on its way to the database, which cannot store it.
        logger.warning("Text the database cannot encode: %s", error)
        return problem(
            400,
            "Bad Request",
            "The request holds text that is not valid Unicode (a lone UTF-16 surrogate).",
            "bad-request",
        )

    @app.errorhandler(pg_errors.QueryCanceled)
    @app.errorhandler(pg_errors.LockNotAvailable)
    def handle_database_timeout(error: psycopg.Error) -> Response:
        # DB_STATEMENT_TIMEOUT or DB_LOCK_TIMEOUT ran out: the transaction was rolled back,
        # so nothing was half-done, and the worker is free again instead of hanging.
        logger.warning("Database timeout: %s", error)
        response = problem(
            503,
            "Service Unavailable",
            "The database did not answer in time (it is busy or a table is locked). "
            "Nothing was changed; try again shortly.",
            "database-timeout",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(WerkzeugNotFound)
    def handle_no_route(error: WerkzeugNotFound) -> Response:
        detail = unmatched_id_detail(request.path) or error.description or ""
        return problem(404, "Not Found", detail, "not-found")

    # --8<-- [end:fault-handlers]
