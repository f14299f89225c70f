"""Registration, email verification, login with throttling, token rotation, and who a token
belongs to. Each public function is one unit of work on the `Database` it is given."""

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from psycopg import Connection

from scheduler.identity import Identity
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
from scheduler.services.errors import (
    Conflict,
    InvalidCredentials,
    NotFound,
    TokenRejected,
    TooManyRequests,
    ValidationFailed,
)
from scheduler.unit_of_work import Database

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
    dummy_password_hash: str  # what an unknown email's password is checked against

    @classmethod
    def from_config(cls, config: dict, dummy_password_hash: str) -> "AuthSettings":
        """Build the settings from the app's config and its start-up dummy hash."""
        return cls(
            secret_key=config["SECRET_KEY"],
            bcrypt_rounds=config["BCRYPT_ROUNDS"],
            access_token_lifetime=timedelta(seconds=config["ACCESS_TOKEN_TTL"]),
            refresh_token_lifetime=timedelta(seconds=config["REFRESH_TOKEN_TTL"]),
            verification_lifetime=timedelta(seconds=config["VERIFICATION_TTL"]),
            login_window=timedelta(seconds=config["LOGIN_WINDOW"]),
            max_failures_per_account=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
            max_failures_per_client=config["LOGIN_MAX_FAILURES_PER_CLIENT"],
            dummy_password_hash=dummy_password_hash,
        )


# --8<-- [start:dummy-hash]
def new_dummy_hash(rounds: int) -> str:
    """A hash to check unknown emails against, so they take as long as wrong passwords (made
    once at start-up: making it during a login would make that login twice as slow)."""
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
def register(database: Database, fields: dict, settings: AuthSettings) -> dict:
    """Create an unverified student user and their student row, and mail a verification."""
    password_hash = hash_password(fields["password"], settings.bcrypt_rounds)
    with database.transaction() as conn:
        if users.get_by_email(conn, fields["email"]) is not None:
            raise Conflict("An account with this email already exists.")
        student = students.create(
            conn, {"full_name": fields["full_name"], "email": fields["email"]}
        )
        user = users.create(
            conn,
            {
                "email": fields["email"],
                "password_hash": password_hash,
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
def verify_email(database: Database, token: str) -> dict:
    """Spend a verification token and mark its user verified; return the user."""
    with database.transaction() as conn:
        user_id = verifications.use(conn, hash_token(token))
        if user_id is None:
            raise ValidationFailed(
                "The verification token is invalid, expired or already used.",
                {"token": ["Invalid, expired or already used; ask for a new one."]},
            )
        return users.mark_verified(conn, user_id)


def resend_verification(database: Database, email: str, settings: AuthSettings) -> None:
    """Mail a fresh token to an unverified account, a few times an hour at most; say nothing
    about other addresses (or about the limit, which would tell the same)."""
    with database.transaction() as conn:
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


def start_attempt(
    database: Database, email: str, client: str, settings: AuthSettings
) -> tuple[int, dict | None]:
    """Refuse (429) a throttled login, or record it as a failure until its password proves
    right; return that failure's id and the email's credentials (None if unknown).

    Counting the attempt before its password is checked, under the account's lock, makes
    concurrent attempts count one after another: no more than the limit get past the throttle,
    and the lock is let go before bcrypt runs.
    """
    with database.transaction() as conn:
        failed_logins.lock_account(conn, email)
        check_throttle(conn, email, client, settings)
        return failed_logins.record(conn, email, client), users.credentials(conn, email)


def login(
    database: Database, email: str, password: str, client: str, settings: AuthSettings
) -> dict:
    """Return tokens for the right password; anything else stays recorded, and is refused."""
    failure_id, found = start_attempt(database, email, client, settings)
    # bcrypt is slow on purpose (a quarter to half a second of CPU), so it runs with no
    # transaction, lock or pooled connection held: a connection held across it would serve
    # no one else meanwhile. An unknown email is checked too, against the dummy hash, so
    # both answers take the same time.
    password_hash = found["password_hash"] if found else settings.dummy_password_hash
    if password_matches(password, password_hash) and found is not None:
        with database.transaction() as conn:
            user = users.get(conn, found["id"])
            if user is not None:  # None: the account was deleted while bcrypt ran
                failed_logins.forget(conn, failure_id)
                return issue_tokens(conn, user, settings)
    # Raised outside every transaction: nothing can roll back the failure recorded above.
    raise InvalidCredentials("The email or password is wrong.")
    # --8<-- [end:login]


# --8<-- [start:refresh]
def refresh(database: Database, refresh_token: str, settings: AuthSettings) -> dict:
    """Exchange a refresh token for new tokens; an unusable one is refused.

    A token used a second time was copied: the whole family is revoked, so the thief and
    the owner both have to log in again.
    """
    with database.transaction() as conn:
        token = refresh_tokens.lock(conn, hash_token(refresh_token))
        if token is not None and token["usable"]:
            refresh_tokens.mark_used(conn, token["id"])
            user = users.get(conn, token["user_id"])
            return issue_tokens(conn, user, settings, token["family_id"])
        if token is not None and token["used_at"] is not None:
            refresh_tokens.revoke_family(conn, token["family_id"])
    # Raised once the transaction has committed, so a reuse's revocation is kept.
    raise TokenRejected("The refresh token is invalid, expired or revoked.")


def logout(database: Database, refresh_token: str) -> None:
    """Revoke the login session a refresh token belongs to (unknown tokens are ignored)."""
    with database.transaction() as conn:
        token = refresh_tokens.lock(conn, hash_token(refresh_token))
        if token is not None:
            refresh_tokens.revoke_family(conn, token["family_id"])
    # --8<-- [end:refresh]


# --8<-- [start:identity-of]
def identity_of(database: Database, user_id: int) -> Identity:
    """The identity of a token's user, read now: a changed role or verification counts at
    once instead of when the token expires. One statement, so no transaction around it."""
    with database.connection() as conn:
        user = users.get(conn, user_id)
    if user is None:
        raise TokenRejected("The access token's user no longer exists.")
    return Identity.of(user)
    # --8<-- [end:identity-of]


def account(database: Database, actor: Identity) -> dict:
    """The caller's own account."""
    with database.connection() as conn:
        return users.get(conn, actor.user_id)


# --8<-- [start:create-admin]
def create_admin(database: Database, email: str, password: str, rounds: int) -> dict:
    """Create a verified admin account (the command line's `create-admin`)."""
    with database.transaction() as conn:
        return create_staff_account(conn, email, password, rounds, role="admin")


def create_instructor_account(
    database: Database, instructor_id: int, password: str, rounds: int
) -> dict:
    """Give an instructor a verified account that logs in with their email address."""
    with database.transaction() as conn:
        instructor = instructors.get(conn, instructor_id)
        if instructor is None:
            raise NotFound(f"No instructor with id {instructor_id}.")
        return create_staff_account(
            conn,
            instructor["email"],
            password,
            rounds,
            role="instructor",
            instructor_id=instructor_id,
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
