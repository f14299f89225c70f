"""The yardstick: a bare Flask + psycopg app that runs the unit's own SQL, and nothing else.

The benchmark serves it beside the unit, under the same gunicorn settings and with the same
pool sizes (read with the unit's own `load_config`), so the gap between the two is what the
unit's layers cost: validation, services, the unit of work, the identity look-up, error
mapping, the pool's health check. Its SQL cannot drift from the unit's because it calls the
unit's repository functions; only the HTTP edge, the rules and bcrypt/JWT are written here,
as plainly as they can be. Served with `gunicorn --chdir benchmarks 'bare_app:create_app()'`.
"""

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta

import bcrypt
import jwt
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from scheduler.config import load_config
from scheduler.repositories import enrollments, failed_logins, refresh_tokens, sections, users
from scheduler.repositories.courses import courses
from scheduler.repositories.students import students
from scheduler_common.db import WITHOUT_JIT

API = "/api/v1"
ALGORITHM = "HS256"
MAX_CREDITS_PER_TERM = 18


class IsoJSONProvider(DefaultJSONProvider):
    """ISO 8601 dates and times, as the unit answers them."""

    @staticmethod
    def default(value):
        """Serialize dates and times as ISO 8601; leave the rest to Flask."""
        if isinstance(value, datetime | date | time):
            return value.isoformat()
        return DefaultJSONProvider.default(value)


def problem(status: int, detail: str) -> tuple[dict, int, dict]:
    """A minimal RFC 9457 answer."""
    body = {"type": "about:blank", "title": detail, "status": status, "detail": detail}
    return body, status, {"Content-Type": "application/problem+json"}


def page_args() -> tuple[int, int]:
    """`limit` and `offset` from the query string, trusted (the bare app validates nothing)."""
    return int(request.args.get("limit", 20)), int(request.args.get("offset", 0))


def create_app() -> Flask:
    """Build the bare app on a pool sized like the unit's (no health check on checkout)."""
    config = load_config()
    app = Flask(__name__)
    app.json = IsoJSONProvider(app)
    pool = ConnectionPool(
        config["DATABASE_URL"],
        min_size=config["DB_POOL_MIN_SIZE"],
        max_size=config["DB_POOL_MAX_SIZE"],
        timeout=config["DB_POOL_TIMEOUT"],
        # The unit's connection settings: autocommit (reads send no BEGIN/COMMIT; writes open
        # a transaction) and no JIT.
        kwargs={"row_factory": dict_row, "autocommit": True, "options": WITHOUT_JIT},
        open=True,
    )
    secret = config["SECRET_KEY"]

    def claims() -> dict | None:
        """The verified claims of the Bearer token, or None."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            return jwt.decode(token, secret, algorithms=[ALGORITHM])
        except jwt.PyJWTError:
            return None

    @app.get(f"{API}/courses")
    def list_courses():
        """A page of courses."""
        limit, offset = page_args()
        with pool.connection() as conn:
            items, total = courses.page(conn, limit, offset)
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @app.get(f"{API}/sections")
    def list_sections():
        """A page of sections, filtered like the unit's list."""
        limit, offset = page_args()
        filters = {
            "term": request.args.get("term"),
            "course_id": request.args.get("course_id", type=int),
        }
        with pool.connection() as conn:
            items, total = sections.page(conn, filters, limit, offset)
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @app.get(f"{API}/sections/<int:section_id>")
    def get_section(section_id: int):
        """One section with its relations."""
        with pool.connection() as conn:
            section = sections.get(conn, section_id)
        return section or problem(404, "No such section.")

    @app.get(f"{API}/sections/<int:section_id>/enrollments")
    def roster(section_id: int):
        """A page of a section's roster, for admins."""
        if (claims() or {}).get("role") != "admin":
            return problem(401, "Admins only.")
        limit, offset = page_args()
        with pool.connection() as conn:
            if sections.sections.get(conn, section_id) is None:
                return problem(404, "No such section.")
            items, total = enrollments.roster(conn, section_id, limit, offset)
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @app.post(f"{API}/sections/<int:section_id>/enrollments")
    def enroll(section_id: int):
        """Enroll a student or waitlist them (admins): the unit's locks and checks, in one
        transaction."""
        if (claims() or {}).get("role") != "admin":
            return problem(401, "Admins only.")
        student_id = request.get_json()["student_id"]
        with pool.connection() as conn, conn.transaction():
            section = sections.lock(conn, section_id)
            if section is None or students.get(conn, student_id, lock=True) is None:
                return problem(404, "No such section or student.")
            found = enrollments.seat_and_timetable(conn, section_id, student_id)
            if (
                found["already_enrolled"]
                or found["clash"]
                or found["credits"] > MAX_CREDITS_PER_TERM
            ):
                return problem(409, "Already enrolled or waiting, a clash or too many credits.")
            # The newest unit's waitlist: a full section (or one with a line) lines them up.
            if found["enrolled"] >= section["capacity"] or found["waiting"]:
                position = found["waiting"] + 1
                return enrollments.create(conn, section_id, student_id, position=position), 201
            return enrollments.create(conn, section_id, student_id), 201

    @app.delete(f"{API}/sections/<int:section_id>/enrollments/<int:student_id>")
    def drop(section_id: int, student_id: int):
        """Drop a student from a section (admins)."""
        if (claims() or {}).get("role") != "admin":
            return problem(401, "Admins only.")
        with pool.connection() as conn, conn.transaction():
            sections.lock(conn, section_id)  # as the newest unit's drop does (lesson 4.5)
            dropped = enrollments.delete(conn, section_id, student_id)
        return ("", 204) if dropped else problem(404, "Not enrolled.")

    @app.post(f"{API}/auth/login")
    def login():
        """Tokens for the right password. Like the unit: the attempt counts as a failure
        until bcrypt, run with no connection held, proves the password right."""
        body = request.get_json()
        email, client = body["email"], request.remote_addr
        now = datetime.now(UTC)
        with pool.connection() as conn, conn.transaction():
            failed_logins.lock_account(conn, email)
            recent = failed_logins.since(
                conn, email, client, now - timedelta(seconds=config["LOGIN_WINDOW"])
            )
            if recent["by_email"] >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
                return problem(429, "Too many failed logins.")
            failure_id = failed_logins.record(conn, email, client, now)
            found = users.credentials(conn, email)
        if found is None or not bcrypt.checkpw(
            body["password"].encode(), found["password_hash"].encode()
        ):
            return problem(401, "The email or password is wrong.")
        refresh_token = secrets.token_urlsafe(32)
        with pool.connection() as conn, conn.transaction():
            failed_logins.forget(conn, failure_id)
            user = users.get(conn, found["id"])
            refresh_tokens.create(
                conn,
                user["id"],
                uuid.uuid4(),
                hashlib.sha256(refresh_token.encode()).hexdigest(),
                now,
                timedelta(seconds=config["REFRESH_TOKEN_TTL"]),
            )
        lifetime = timedelta(seconds=config["ACCESS_TOKEN_TTL"])
        access_claims = {"sub": str(user["id"]), "role": user["role"], "iat": now}
        return (
            {
                "access_token": jwt.encode(
                    {**access_claims, "exp": now + lifetime}, secret, algorithm=ALGORITHM
                ),
                "token_type": "Bearer",
                "expires_in": int(lifetime.total_seconds()),
                "refresh_token": refresh_token,
            },
            200,
            {"Cache-Control": "no-store"},
        )

    return app
