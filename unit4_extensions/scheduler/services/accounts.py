"""Accounts: registration and its email verification, and the staff accounts the command
line makes. Each public function is one unit of work on the `Database` it is given."""

from datetime import timedelta

from psycopg import Connection

from scheduler.repositories import users, verifications
from scheduler.repositories.instructors import instructors
from scheduler.repositories.students import students
from scheduler.security import hash_password, hash_token, new_opaque_token
from scheduler.services.auth import AuthSettings
from scheduler.services.errors import Conflict, NotFound, ValidationFailed
from scheduler.services.mail import queue_mail
from scheduler.unit_of_work import Database

# --8<-- [start:mail-limit]
MAX_MAILS_PER_HOUR = 5  # verification mails per account; more would let anyone spam it
MAIL_LIMIT_WINDOW = timedelta(hours=1)  # the hour those mails are counted over
# --8<-- [end:mail-limit]


# --8<-- [start:send-verification]
def send_verification(conn: Connection, user: dict, settings: AuthSettings) -> None:
    """Create a one-time verification token and queue the mail that carries it."""
    token = new_opaque_token()
    verifications.create(
        conn, user["id"], hash_token(token), settings.clock(), settings.verification_lifetime
    )
    hours = int(settings.verification_lifetime.total_seconds() // 3600)
    queue_mail(
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
def verify_email(database: Database, token: str, settings: AuthSettings) -> dict:
    """Spend a verification token and mark its user verified; return the user."""
    with database.transaction() as conn:
        user_id = verifications.use(conn, hash_token(token), settings.clock())
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
        an_hour_ago = settings.clock() - MAIL_LIMIT_WINDOW
        if verifications.count_since(conn, user["id"], an_hour_ago) < MAX_MAILS_PER_HOUR:
            send_verification(conn, user, settings)
    # --8<-- [end:verify]


# --8<-- [start:create-admin]
def create_admin(database: Database, email: str, password: str, rounds: int) -> dict:
    """Create a verified admin account (the command line's `create-admin`)."""
    password_hash = hash_password(password, rounds)  # slow on purpose: not inside the transaction
    with database.transaction() as conn:
        return create_staff_account(conn, email, password_hash, role="admin")


def create_instructor_account(
    database: Database, instructor_id: int, password: str, rounds: int
) -> dict:
    """Give an instructor a verified account that logs in with their email address."""
    password_hash = hash_password(password, rounds)
    with database.transaction() as conn:
        instructor = instructors.get(conn, instructor_id)
        if instructor is None:
            raise NotFound(f"No instructor with id {instructor_id}.")
        return create_staff_account(
            conn,
            instructor["email"],
            password_hash,
            role="instructor",
            instructor_id=instructor_id,
        )


def create_staff_account(
    conn: Connection,
    email: str,
    password_hash: str,
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
            "password_hash": password_hash,
            "role": role,
            "is_verified": True,
            "student_id": None,
            "instructor_id": instructor_id,
        },
    )
    # --8<-- [end:create-admin]
