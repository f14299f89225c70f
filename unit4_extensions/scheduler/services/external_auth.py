"""External sign-in (lesson 4.6): who a checked external token's identity is among our users.

An (issuer, subject) pair already linked is that user. At a first sign-in, an account with the
same email is linked only when the issuer says it verified that email and our account was
verified too (else the token is refused); with no such account a new student is made. The
refusals are 401s: the token is genuine, but it does not sign anyone in here, which every
route that takes a token already answers (a 409 would be a new answer on every one of them).
The role always comes from our users table: what the token says of roles is never read.
"""

from psycopg import Connection
from psycopg import errors as pg_errors

from scheduler.identity import Identity
from scheduler.oidc import ExternalIdentity
from scheduler.repositories import external_identities, users
from scheduler.repositories.students import students
from scheduler.security import hash_password, new_opaque_token
from scheduler.services.errors import TokenRejected
from scheduler.unit_of_work import Database


# --8<-- [start:sign-in]
def sign_in(database: Database, external: ExternalIdentity, bcrypt_rounds: int) -> Identity:
    """The identity of an external token's user, linking or making the account at its first
    sign-in. Safe when the same person's first requests race: the database's unique keys let
    one of them make the account, and the others, retried once, find it."""
    with database.connection() as conn:
        user = external_identities.find_user(conn, external.issuer, external.subject)
    if user is not None:
        return Identity.of(user)
    # An account made here has no password: it gets the hash of one nobody ever sees, so the
    # login answers it as any wrong password (hashed before the transaction: bcrypt is slow).
    unusable_hash = hash_password(new_opaque_token(), bcrypt_rounds)
    try:
        return Identity.of(first_sign_in(database, external, unusable_hash))
    except pg_errors.UniqueViolation:
        # A concurrent first sign-in of the same person committed first: its link is there now.
        return Identity.of(first_sign_in(database, external, unusable_hash))
        # --8<-- [end:sign-in]


# --8<-- [start:first-sign-in]
def first_sign_in(database: Database, external: ExternalIdentity, unusable_hash: str) -> dict:
    """Link the external identity to its user (an existing one, or a new student); return it."""
    with database.transaction() as conn:
        user = external_identities.find_user(conn, external.issuer, external.subject)
        if user is not None:
            return user
        if external.email is None:
            raise TokenRejected(
                "The identity provider's token carries no email, which a first sign-in needs:"
                " send its ID token, or have the provider add the email claim."
            )
        user = users.get_by_email(conn, external.email)
        if user is not None and not (external.email_verified and user["is_verified"]):
            # Linking on an email nobody proved would hand the account to whoever typed the
            # address first: at the provider, or here (before its owner ever signed in).
            raise TokenRejected(
                "An account with this email already exists. Sign in with its password; it can"
                " be linked once the identity provider and this account have both verified"
                " the email."
            )
        if user is None:
            user = new_student(conn, external, unusable_hash)
        external_identities.link(conn, external.issuer, external.subject, user["id"])
        return user
        # --8<-- [end:first-sign-in]


def new_student(conn: Connection, external: ExternalIdentity, unusable_hash: str) -> dict:
    """Make a student and their account, verified when the provider verified the email."""
    full_name = external.name or external.email.partition("@")[0]
    student = students.create(conn, {"full_name": full_name, "email": external.email})
    return users.create(
        conn,
        {
            "email": external.email,
            "password_hash": unusable_hash,
            "role": "student",
            "is_verified": external.email_verified,
            "student_id": student["id"],
            "instructor_id": None,
        },
    )
