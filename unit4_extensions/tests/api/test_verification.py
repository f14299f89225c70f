"""Email verification: POST /api/v1/auth/verify spends the mailed single-use token (wrong,
expired or reused → 422 naming `token`, nothing changed), and POST
/api/v1/auth/resend-verification answers 202 with the same body for any address, queueing a
new mail only for an existing unverified account."""

import hashlib
import re
from datetime import timedelta

import pytest
from helpers import assert_problem, make_section
from psycopg import sql

REGISTER = "/api/v1/auth/register"
VERIFY = "/api/v1/auth/verify"
RESEND = "/api/v1/auth/resend-verification"
LOGIN = "/api/v1/auth/login"
PASSWORD = "a long enough password"
USER_KEYS = {"id", "email", "role", "is_verified", "student_id", "instructor_id"}
TABLES = ("students", "users", "email_verifications", "outbox")


def register(client, email: str = "new@example.edu") -> dict:
    """Register a student through the API and return the user."""
    response = client.post(
        REGISTER, json={"email": email, "password": PASSWORD, "full_name": "Ada Lovelace"}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def mailed_tokens(db, email: str) -> list[str]:
    """The verification tokens mailed to an address, oldest first."""
    rows = db.execute(
        "SELECT body FROM outbox WHERE to_address = %s ORDER BY id", (email,)
    ).fetchall()
    tokens = []
    for row in rows:
        match = re.search(r"^([A-Za-z0-9_-]{43,})$", row["body"], re.MULTILINE)
        assert match, row["body"]
        tokens.append(match.group(1))
    return tokens


def snapshot(db) -> dict[str, list[dict]]:
    """Every row of the tables verification touches."""
    return {
        table: db.execute(
            sql.SQL("SELECT * FROM {} ORDER BY id").format(sql.Identifier(table))
        ).fetchall()
        for table in TABLES
    }


def verify(client, token):
    return client.post(VERIFY, json={"token": token})


def assert_token_refused(response) -> None:
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"token"}


def is_verified(db, user_id: int) -> bool:
    return db.execute("SELECT is_verified FROM users WHERE id = %s", (user_id,)).fetchone()[
        "is_verified"
    ]


# --- POST /auth/verify --------------------------------------------------------------------


def test_the_mailed_token_verifies_the_account(anonymous_client, db):
    user = register(anonymous_client)
    [token] = mailed_tokens(db, "new@example.edu")

    response = verify(anonymous_client, token)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == USER_KEYS
    assert body == {**user, "is_verified": True}
    assert is_verified(db, user["id"]) is True


def test_verifying_spends_the_token(anonymous_client, db):
    register(anonymous_client)
    [token] = mailed_tokens(db, "new@example.edu")

    verify(anonymous_client, token)

    row = db.execute("SELECT used_at FROM email_verifications").fetchone()
    assert row["used_at"] is not None


def test_a_token_works_only_once(anonymous_client, db):
    register(anonymous_client)
    [token] = mailed_tokens(db, "new@example.edu")
    assert verify(anonymous_client, token).status_code == 200
    before = snapshot(db)

    assert_token_refused(verify(anonymous_client, token))
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("x" * 43, id="unknown"),
        pytest.param("nope", id="short"),
        pytest.param("$2b$04$" + "x" * 53, id="hash-looking"),
    ],
)
def test_a_wrong_token_is_422_naming_token_and_changes_nothing(anonymous_client, db, token):
    register(anonymous_client)
    before = snapshot(db)

    assert_token_refused(verify(anonymous_client, token))
    assert snapshot(db) == before


def test_the_stored_hash_itself_is_not_a_token(anonymous_client, db):
    user = register(anonymous_client)
    stored = db.execute("SELECT token_hash FROM email_verifications").fetchone()["token_hash"]

    assert_token_refused(verify(anonymous_client, stored))
    assert is_verified(db, user["id"]) is False


def test_an_expired_token_is_422_and_the_account_stays_unverified(anonymous_client, db):
    user = register(anonymous_client)
    [token] = mailed_tokens(db, "new@example.edu")
    db.execute("UPDATE email_verifications SET expires_at = now() - interval '1 second'")
    before = snapshot(db)

    assert_token_refused(verify(anonymous_client, token))
    assert snapshot(db) == before
    assert is_verified(db, user["id"]) is False


def test_a_token_is_valid_for_24_hours(anonymous_client, db):
    user = register(anonymous_client)
    [token] = mailed_tokens(db, "new@example.edu")
    # 23 hours and 59 minutes later it still works.
    db.execute(
        "UPDATE email_verifications"
        " SET created_at = created_at - interval '23 hours 59 minutes',"
        "     expires_at = expires_at - interval '23 hours 59 minutes'"
    )

    assert verify(anonymous_client, token).status_code == 200
    assert is_verified(db, user["id"]) is True


def test_a_token_verifies_only_its_own_account(anonymous_client, db):
    first = register(anonymous_client, "one@example.edu")
    second = register(anonymous_client, "two@example.edu")
    [token] = mailed_tokens(db, "one@example.edu")

    verify(anonymous_client, token)

    assert is_verified(db, first["id"]) is True
    assert is_verified(db, second["id"]) is False


def test_the_token_in_the_mail_is_not_stored_in_plaintext(anonymous_client, db):
    register(anonymous_client)
    [token] = mailed_tokens(db, "new@example.edu")

    stored = db.execute("SELECT token_hash FROM email_verifications").fetchone()["token_hash"]
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "token", id="missing"),
        pytest.param({"token": 42}, "token", id="number"),
        pytest.param({"token": None}, "token", id="null"),
        pytest.param({"token": ""}, "token", id="empty"),
        pytest.param({"token": "x" * 201}, "token", id="too-long"),
        pytest.param({"token": "abc", "user_id": 1}, "user_id", id="unknown-field"),
    ],
)
def test_a_malformed_verify_body_is_422_naming_the_field(anonymous_client, db, body, field):
    register(anonymous_client)
    before = snapshot(db)

    problem = assert_problem(anonymous_client.post(VERIFY, json=body), 422)

    assert field in problem["errors"]
    assert snapshot(db) == before


def test_a_verify_body_that_is_not_json_is_415(anonymous_client):
    assert_problem(anonymous_client.post(VERIFY, data="token=abc"), 415)


def test_verification_lets_the_student_enroll(anonymous_client, client, db):
    user = register(anonymous_client)
    section = make_section(client)
    tokens = anonymous_client.post(
        LOGIN, json={"email": "new@example.edu", "password": PASSWORD}
    ).get_json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    enrollments = f"/api/v1/sections/{section['id']}/enrollments"
    enroll = {"student_id": user["student_id"]}

    refused = anonymous_client.post(enrollments, json=enroll, headers=headers)
    [token] = mailed_tokens(db, "new@example.edu")
    verify(anonymous_client, token)
    accepted = anonymous_client.post(enrollments, json=enroll, headers=headers)

    assert_problem(refused, 403)
    assert accepted.status_code == 201


# --- POST /auth/resend-verification -------------------------------------------------------


def resend(client, email: str):
    return client.post(RESEND, json={"email": email})


def test_resend_to_an_unverified_account_queues_a_new_token(anonymous_client, db):
    register(anonymous_client)

    response = resend(anonymous_client, "new@example.edu")

    assert response.status_code == 202
    tokens = mailed_tokens(db, "new@example.edu")
    assert len(tokens) == 2
    assert tokens[0] != tokens[1]
    assert db.execute("SELECT count(*) AS n FROM email_verifications").fetchone()["n"] == 2


def test_the_resent_token_verifies_and_lives_24_hours(anonymous_client, db):
    user = register(anonymous_client)
    resend(anonymous_client, "new@example.edu")
    newest = mailed_tokens(db, "new@example.edu")[-1]

    row = db.execute(
        "SELECT * FROM email_verifications WHERE token_hash = %s",
        (hashlib.sha256(newest.encode()).hexdigest(),),
    ).fetchone()
    assert row["expires_at"] - row["created_at"] == timedelta(hours=24)
    assert verify(anonymous_client, newest).status_code == 200
    assert is_verified(db, user["id"]) is True


def test_resend_matches_the_email_whatever_its_case(anonymous_client, db):
    register(anonymous_client)

    resend(anonymous_client, "NEW@Example.EDU")

    assert len(mailed_tokens(db, "new@example.edu")) == 2


def test_resend_for_an_unknown_address_writes_nothing(anonymous_client, db):
    register(anonymous_client)
    before = snapshot(db)

    response = resend(anonymous_client, "nobody@example.edu")

    assert response.status_code == 202
    assert snapshot(db) == before


def test_resend_for_a_verified_account_writes_nothing(anonymous_client, db, make_user):
    make_user("student", email="done@example.edu", verified=True)
    before = snapshot(db)

    response = resend(anonymous_client, "done@example.edu")

    assert response.status_code == 202
    assert snapshot(db) == before


def test_resend_answers_the_same_whatever_the_address(anonymous_client, db, make_user):
    register(anonymous_client, "pending@example.edu")
    make_user("student", email="done@example.edu", verified=True)

    answers = [
        resend(anonymous_client, email)
        for email in ("pending@example.edu", "done@example.edu", "nobody@example.edu")
    ]

    assert {response.status_code for response in answers} == {202}
    assert len({response.get_data() for response in answers}) == 1
    assert len({response.mimetype for response in answers}) == 1
    assert set(answers[0].get_json()) == {"detail"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"email": "not-an-email"}, id="bad-email"),
        pytest.param({"email": 42}, id="number"),
        pytest.param({"email": "new@example.edu", "force": True}, id="unknown-field"),
    ],
)
def test_a_malformed_resend_body_is_422_and_writes_nothing(anonymous_client, db, body):
    register(anonymous_client)
    before = snapshot(db)

    assert_problem(anonymous_client.post(RESEND, json=body), 422)
    assert snapshot(db) == before


def test_resend_mails_at_most_five_tokens_an_hour_and_answers_the_same_past_that(
    anonymous_client, db
):
    register(anonymous_client)  # the first mail
    answers = [resend(anonymous_client, "new@example.edu") for _ in range(6)]

    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.get_data() for answer in answers}) == 1
    assert len(mailed_tokens(db, "new@example.edu")) == 5
