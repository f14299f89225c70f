"""One error shape everywhere: RFC 9457 problem details for the domain's errors, HTTP's and
the database's. Services raise domain errors; only this module knows their HTTP status."""

import logging
from dataclasses import dataclass, field
from http import HTTPStatus

import psycopg
from flask import Flask, Response, jsonify
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException

from scheduler.request_id import current_request_id
from scheduler.services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidCredentials,
    NotAuthenticated,
    NotFound,
    TokenRejected,
    TooManyRequests,
    Unavailable,
    ValidationFailed,
)

PROBLEM_BASE = "https://course-scheduler.example/problems/"

logger = logging.getLogger(__name__)


# --8<-- [start:classes]
class BadRequest(Exception):
    """The request itself is malformed (body, query parameter): HTTP's concern, no rule's."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


@dataclass(frozen=True)
class Problem:
    """How one kind of error answers: its status, title, type slug and fixed headers."""

    status: int
    title: str
    slug: str
    headers: dict[str, str] = field(default_factory=dict)


# Every error a client may hear about, and its answer: the one place that knows HTTP statuses.
PROBLEMS: dict[type[Exception], Problem] = {
    BadRequest: Problem(400, "Bad Request", "bad-request"),
    # RFC 6750: say which scheme to use, and whether the token presented was bad.
    NotAuthenticated: Problem(401, "Unauthorized", "unauthorized", {"WWW-Authenticate": "Bearer"}),
    InvalidCredentials: Problem(
        401, "Unauthorized", "unauthorized", {"WWW-Authenticate": "Bearer"}
    ),
    TokenRejected: Problem(
        401, "Unauthorized", "unauthorized", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    ),
    Forbidden: Problem(403, "Forbidden", "forbidden"),
    NotFound: Problem(404, "Not Found", "not-found"),
    Conflict: Problem(409, "Conflict", "conflict"),
    ValidationFailed: Problem(422, "Validation Failed", "validation-failed"),
    TooManyRequests: Problem(429, "Too Many Requests", "too-many-requests"),
    Unavailable: Problem(503, "Service Unavailable", "unavailable"),
}


def error_response(error: DomainError | BadRequest) -> Response:
    """Answer a domain (or bad-request) error with its problem+json and headers."""
    kind = PROBLEMS[type(error)]
    errors = error.errors if isinstance(error, BadRequest | ValidationFailed) else None
    response = problem(kind.status, kind.title, error.detail, kind.slug, errors)
    response.headers.update(kind.headers)
    if isinstance(error, TooManyRequests | Unavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response
    # --8<-- [end:classes]


# --8<-- [start:constraint-messages]
# Database constraints by name: which field they concern and what to tell the client.
CONSTRAINT_MESSAGES = {
    "courses_code_key": ("code", "A course with this code already exists."),
    "instructors_email_key": ("email", "An instructor with this email already exists."),
    "students_email_key": ("email", "A student with this email already exists."),
    "users_email_key": ("email", "An account with this email already exists."),
    "users_instructor_id_key": ("instructor_id", "This instructor already has an account."),
    "rooms_name_key": ("name", "A room with this name already exists."),
    "enrollments_pkey": ("student_id", "The student is already enrolled in this section."),
    "sections_room_double_booked": (
        "room_id",
        "The room is already booked at an overlapping time in this term.",
    ),
    "sections_instructor_double_booked": (
        "instructor_id",
        "The instructor already teaches at an overlapping time in this term.",
    ),
    "sections_ends_after_start": ("ends_at", "Must be later than starts_at."),
    "sections_course_id_fkey": ("course_id", "No course with this id."),
    "sections_instructor_id_fkey": ("instructor_id", "No instructor with this id."),
    "sections_room_id_fkey": ("room_id", "No room with this id."),
    "enrollments_student_id_fkey": ("student_id", "No student with this id."),
    "enrollments_section_id_fkey": ("section_id", "No section with this id."),
}
# --8<-- [end:constraint-messages]


# --8<-- [start:problem]
def problem(status: int, title: str, detail: str, slug: str, errors: dict | None = None):
    """Build a problem+json response."""
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response
    # --8<-- [end:problem]


# --8<-- [start:database-errors]
def database_error_to_api_error(error: psycopg.Error) -> DomainError | None:
    """Translate a constraint violation into the client error it means, if it is one."""
    diag = error.diag
    field, message = CONSTRAINT_MESSAGES.get(diag.constraint_name or "", (None, None))
    if isinstance(error, pg_errors.UniqueViolation | pg_errors.ExclusionViolation):
        return Conflict(message or "A record with these values already exists.")
    if isinstance(error, pg_errors.ForeignKeyViolation):
        if "is still referenced" in (diag.message_detail or ""):
            return Conflict(f"It is still referenced by {diag.table_name}: remove those first.")
        return Conflict(message or "It refers to a record that does not exist.")
    if isinstance(error, pg_errors.CheckViolation):
        field = field or "_body"
        return ValidationFailed(
            "The values break a rule of the data.",
            {field: [message or f"Violates {diag.constraint_name}."]},
        )
    return None
    # --8<-- [end:database-errors]


# --8<-- [start:handlers]
def register_error_handlers(app: Flask) -> None:
    """Answer every error with a problem+json body and no internals."""

    @app.errorhandler(DomainError)
    @app.errorhandler(BadRequest)
    def handle_api_error(error: DomainError | BadRequest) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        slug = (error.name or "error").lower().replace(" ", "-")
        response = problem(error.code or 500, error.name, error.description or "", slug)
        if error.code == HTTPStatus.METHOD_NOT_ALLOWED and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(psycopg.errors.IntegrityError)
    def handle_integrity_error(error: psycopg.Error) -> Response:
        api_error = database_error_to_api_error(error)
        if api_error is None:
            return handle_unexpected_error(error)
        return handle_api_error(api_error)

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(PoolTimeout)
    def handle_database_unavailable(error: Exception) -> Response:
        logger.warning("Database unavailable: %s", error)
        response = problem(
            503,
            "Service Unavailable",
            "The database is unavailable right now. Try again shortly.",
            "database-unavailable",
        )
        response.headers["Retry-After"] = "5"
        return response

    # --8<-- [start:unexpected]
    @app.errorhandler(Exception)
    def handle_unexpected_error(error: Exception) -> Response:
        # The id is in the message as well as in the log format: it survives a logging set-up
        # of the operator's own that knows nothing of request ids.
        request_id = current_request_id()
        logger.exception("Unhandled error (request id %s)", request_id, exc_info=error)
        return problem(
            500,
            "Internal Server Error",
            f"Something went wrong on our side. Quote request id {request_id} when reporting it.",
            "internal-error",
        )
        # --8<-- [end:unexpected]

    # --8<-- [end:handlers]
