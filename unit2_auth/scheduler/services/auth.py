"""Registration, email verification, login with throttling, and token rotation."""

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from psycopg import Connection

from scheduler.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from scheduler.repositories import failed_logins, outbox, refresh_tokens, users, verifications
from scheduler.repositories.instructors import instructors
from scheduler.repositories.students import students
from scheduler.security import (
    create_access_token,
    hash_password,
    hash_token,
    new_opaque_token,
    password_matches,
)

# --8<-- [start:mail-limit]
MAX_MAILS_PER_HOUR = 5  # verification mails per account; more would let anyone spam it
# --8<-- [end:mail-limit]


@dataclass(frozen=True)
class AuthSettings:
    """The knobs of authentication, read from the app's config."""

    secret_key: str
    bcrypt_rounds: int
    access_token_lifetime: timedelta
    refresh_token_lifetime: timedelta
    verification_lifetime: timedelta
    login_window: timedelta
    max_failures_per_account: int
    max_failures_per_client: int

    @classmethod
    def from_config(cls, config: dict) -> "AuthSettings":
        """Build the settings from a Flask config mapping."""
        return cls(
            secret_key=config["SECRET_KEY"],
            bcrypt_rounds=config["BCRYPT_ROUNDS"],
            access_token_lifetime=timedelta(seconds=config["ACCESS_TOKEN_TTL"]),
            refresh_token_lifetime=timedelta(seconds=config["REFRESH_TOKEN_TTL"]),
            verification_lifetime=timedelta(seconds=config["VERIFICATION_TTL"]),
            login_window=timedelta(seconds=config["LOGIN_WINDOW"]),
            max_failures_per_account=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
            max_failures_per_client=config["LOGIN_MAX_FAILURES_PER_CLIENT"],
        )


# --8<-- [start:dummy-hash]
@cache
def dummy_hash(rounds: int) -> str:
    """A hash to check unknown emails against, so they take as long as wrong passwords."""
    return hash_password(new_opaque_token(), rounds)
    # --8<-- [end:dummy-hash]


# --8<-- [start:send-verification]
def send_verification(conn: Connection, user: dict, settings: AuthSettings) -> None:
    """Create a one-time verification token and queue the mail that carries it."""
    token = new_opaque_token()
    verifications.create(conn, user["id"], hash_token(token), settings.verification_lifetime)
    hours = int(settings.verification_lifetime.total_seconds() // 3600)
    outbox.add(
        conn,
        user["email"],
        "Confirm your email address",
        "Welcome to the course scheduler!\n\n"
        f"Confirm your address by sending this token to POST /api/v1/auth/verify:\n\n{token}\n\n"
        f"It works once, for {hours} hours.",
    )
    # --8<-- [end:send-verification]


# --8<-- [start:register]
def register(conn: Connection, fields: dict, settings: AuthSettings) -> dict:
    """Create an unverified student user and their student row, and mail a verification."""
    if users.get_by_email(conn, fields["email"]) is not None:
        raise Conflict("An account with this email already exists.")
    student = students.create(conn, {"full_name": fields["full_name"], "email": fields["email"]})
    user = users.create(
        conn,
        {
            "email": fields["email"],
            "password_hash": hash_password(fields["password"], settings.bcrypt_rounds),
            "role": "student",
            "is_verified": False,
            "student_id": student["id"],
            "instructor_id": None,
        },
    )
    send_verification(conn, user, settings)
    return user
    # --8<-- [end:register]


# --8<-- [start:verify]
def verify_email(conn: Connection, token: str) -> dict:
    """Spend a verification token and mark its user verified; return the user."""
    user_id = verifications.use(conn, hash_token(token))
    if user_id is None:
        raise ValidationFailed(
            "The verification token is invalid, expired or already used.",
            {"token": ["Invalid, expired or already used; ask for a new one."]},
        )
    return users.mark_verified(conn, user_id)


def resend_verification(conn: Connection, email: str, settings: AuthSettings) -> None:
    """Mail a fresh token to an unverified account, a few times an hour at most; say nothing
    about other addresses (or about the limit, which would tell the same)."""
    user = users.get_by_email(conn, email)
    if user is None or user["is_verified"]:
        return
    users.lock(conn, user["id"])  # concurrent resends count one after another
    if verifications.count_recent(conn, user["id"], timedelta(hours=1)) < MAX_MAILS_PER_HOUR:
        send_verification(conn, user, settings)
    # --8<-- [end:verify]


# --8<-- [start:issue-tokens]
def issue_tokens(conn: Connection, user: dict, settings: AuthSettings, family_id=None) -> dict:
    """Return a new access token and a new refresh token (in a new family unless given)."""
    refresh_token = new_opaque_token()
    refresh_tokens.create(
        conn,
        user["id"],
        family_id or uuid.uuid4(),
        hash_token(refresh_token),
        settings.refresh_token_lifetime,
    )
    lifetime = settings.access_token_lifetime
    return {
        "access_token": create_access_token(user, settings.secret_key, lifetime),
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "refresh_token": refresh_token,
    }
    # --8<-- [end:issue-tokens]


# --8<-- [start:login]
def check_throttle(conn: Connection, email: str, client: str, settings: AuthSettings) -> None:
    """Refuse (429) while the account or the client has too many recent failures."""
    recent = failed_logins.recent(conn, email, client, settings.login_window)
    for count, limit, oldest in (
        (recent["by_email"], settings.max_failures_per_account, recent["email_oldest"]),
        (recent["by_client"], settings.max_failures_per_client, recent["client_oldest"]),
    ):
        if count >= limit:
            wait = oldest + settings.login_window - recent["now"]
            raise TooManyRequests(
                "Too many failed logins. Try again later.",
                retry_after=max(1, math.ceil(wait.total_seconds())),
            )


def login(
    conn: Connection, email: str, password: str, client: str, settings: AuthSettings
) -> dict | None:
    """Return tokens for the right password; None (the failure recorded) for anything else."""
    failed_logins.lock_account(conn, email)
    check_throttle(conn, email, client, settings)
    found = users.credentials(conn, email)
    # Check a password even for an unknown email: both answers take the same time.
    password_hash = found["password_hash"] if found else dummy_hash(settings.bcrypt_rounds)
    if not password_matches(password, password_hash) or found is None:
        failed_logins.record(conn, email, client)
        return None
    return issue_tokens(conn, users.get(conn, found["id"]), settings)
    # --8<-- [end:login]


# --8<-- [start:refresh]
def refresh(conn: Connection, refresh_token: str, settings: AuthSettings) -> dict | None:
    """Exchange a refresh token for new tokens; None if it is not usable.

    A token used a second time was copied: the whole family is revoked, so the thief and
    the owner both have to log in again.
    """
    token = refresh_tokens.lock(conn, hash_token(refresh_token))
    if token is None:
        return None
    if not token["usable"]:
        if token["used_at"] is not None:
            refresh_tokens.revoke_family(conn, token["family_id"])
        return None
    refresh_tokens.mark_used(conn, token["id"])
    return issue_tokens(conn, users.get(conn, token["user_id"]), settings, token["family_id"])


def logout(conn: Connection, refresh_token: str) -> None:
    """Revoke the login session a refresh token belongs to (unknown tokens are ignored)."""
    token = refresh_tokens.lock(conn, hash_token(refresh_token))
    if token is not None:
        refresh_tokens.revoke_family(conn, token["family_id"])
    # --8<-- [end:refresh]


# --8<-- [start:create-admin]
def create_admin(conn: Connection, email: str, password: str, rounds: int) -> dict:
    """Create a verified admin account (the command line's `create-admin`)."""
    return create_staff_account(conn, email, password, rounds, role="admin")


def create_instructor_account(
    conn: Connection, instructor_id: int, password: str, rounds: int
) -> dict:
    """Give an instructor a verified account that logs in with their email address."""
    instructor = instructors.get(conn, instructor_id)
    if instructor is None:
        raise NotFound(f"No instructor with id {instructor_id}.")
    return create_staff_account(
        conn, instructor["email"], password, rounds, role="instructor", instructor_id=instructor_id
    )


def create_staff_account(
    conn: Connection,
    email: str,
    password: str,
    rounds: int,
    *,
    role: str,
    instructor_id: int | None = None,
) -> dict:
    """Create a verified admin or instructor account (staff never register themselves)."""
    if users.get_by_email(conn, email) is not None:
        raise Conflict("An account with this email already exists.")
    return users.create(
        conn,
        {
            "email": email,
            "password_hash": hash_password(password, rounds),
            "role": role,
            "is_verified": True,
            "student_id": None,
            "instructor_id": instructor_id,
        },
    )
    # --8<-- [end:create-admin]
