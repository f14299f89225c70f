"""POST /api/v1/auth/register: an unverified student user and their student row, created in
one transaction with a hashed single-use verification token and the mail that carries it;
passwords of 8–72 bytes (not characters); unknown fields such as `role` refused, never
obeyed; and every refused registration shown to leave the database exactly as it was."""

import hashlib
import re
from datetime import timedelta

import bcrypt
import pytest
from helpers import NOTHING_HELD, assert_problem, watch_calls
from psycopg import sql

from scheduler.services import accounts, mail
from scheduler_common.db import POOL_EXTENSION

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
AUTH_TABLES = ("students", "users", "email_verifications", "outbox")
USER_KEYS = {"id", "email", "role", "is_verified", "student_id", "instructor_id"}
PASSWORD = "a long enough password"


def register_body(**overrides) -> dict:
    """A valid registration body; keyword arguments replace or add fields."""
    return {"email": "new@example.edu", "password": PASSWORD, "full_name": "Ada Lovelace"} | (
        overrides
    )


def snapshot(db) -> dict[str, list[dict]]:
    """Every row of the tables a registration writes, for before/after comparisons."""
    return {
        table: db.execute(
            sql.SQL("SELECT * FROM {} ORDER BY id").format(sql.Identifier(table))
        ).fetchall()
        for table in AUTH_TABLES
    }


EMPTY = {table: [] for table in AUTH_TABLES}


def mailed_token(outbox_row: dict) -> str:
    """The verification token in a queued mail's body."""
    match = re.search(r"^([A-Za-z0-9_-]{43,})$", outbox_row["body"], re.MULTILINE)
    assert match, outbox_row["body"]
    return match.group(1)


# --- success ------------------------------------------------------------------------------


def test_register_returns_201_and_an_unverified_student_user(anonymous_client, db):
    response = anonymous_client.post(REGISTER, json=register_body())

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == USER_KEYS
    assert body["email"] == "new@example.edu"
    assert body["role"] == "student"
    assert body["is_verified"] is False
    assert isinstance(body["id"], int)
    assert isinstance(body["student_id"], int)
    assert body["instructor_id"] is None
    assert response.headers["Location"] == "/api/v1/auth/me"


def test_register_never_returns_the_password_or_its_hash(anonymous_client):
    response = anonymous_client.post(REGISTER, json=register_body())

    text = response.get_data(as_text=True)
    assert PASSWORD not in text
    assert "$2b$" not in text
    assert "password" not in text


def test_register_creates_the_student_row_linked_to_the_user(anonymous_client, db):
    body = anonymous_client.post(REGISTER, json=register_body()).get_json()

    student = db.execute("SELECT * FROM students WHERE id = %s", (body["student_id"],)).fetchone()
    user = db.execute("SELECT * FROM users WHERE id = %s", (body["id"],)).fetchone()
    assert (student["full_name"], student["email"]) == ("Ada Lovelace", "new@example.edu")
    assert user["student_id"] == student["id"]
    assert (user["role"], user["is_verified"], user["instructor_id"]) == ("student", False, None)
    assert db.execute("SELECT count(*) AS n FROM students").fetchone()["n"] == 1


def test_register_stores_a_bcrypt_hash_of_the_password_never_the_password(anonymous_client, db):
    anonymous_client.post(REGISTER, json=register_body())

    stored = db.execute("SELECT password_hash FROM users").fetchone()["password_hash"]
    assert stored.startswith("$2b$")
    assert PASSWORD not in stored
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())


def test_register_queues_one_verification_mail_to_the_new_address(anonymous_client, db):
    anonymous_client.post(REGISTER, json=register_body())

    mails = db.execute("SELECT * FROM outbox").fetchall()
    assert len(mails) == 1
    assert mails[0]["to_address"] == "new@example.edu"
    assert mails[0]["subject"] == "Confirm your email address"
    assert mails[0]["sent_at"] is None
    assert "/api/v1/auth/verify" in mails[0]["body"]


def test_register_stores_only_the_hash_of_the_mailed_token_valid_for_24_hours(anonymous_client, db):
    user = anonymous_client.post(REGISTER, json=register_body()).get_json()
    token = mailed_token(db.execute("SELECT * FROM outbox").fetchone())

    rows = db.execute("SELECT * FROM email_verifications").fetchall()
    assert len(rows) == 1
    row = rows[0]
    assert row["user_id"] == user["id"]
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["used_at"] is None
    assert row["expires_at"] - row["created_at"] == timedelta(hours=24)
    plaintext = db.execute(
        "SELECT count(*) AS n FROM email_verifications AS v WHERE strpos(v::text, %s) > 0",
        (token,),
    ).fetchone()["n"]
    assert plaintext == 0


def test_register_trims_the_email_and_full_name(anonymous_client, db):
    response = anonymous_client.post(
        REGISTER, json=register_body(email="  new@example.edu ", full_name="  Ada Lovelace  ")
    )

    assert response.status_code == 201
    assert response.get_json()["email"] == "new@example.edu"
    assert db.execute("SELECT full_name FROM students").fetchone()["full_name"] == "Ada Lovelace"


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("x" * 8, id="8-ascii-bytes"),
        pytest.param("x" * 72, id="72-ascii-bytes"),
        pytest.param("éééé", id="4-chars-8-bytes"),
        pytest.param("é" * 36, id="36-chars-72-bytes"),
        pytest.param("😀" * 18, id="18-emoji-72-bytes"),
    ],
)
def test_register_accepts_passwords_of_8_to_72_bytes_and_they_log_in(anonymous_client, password):
    registered = anonymous_client.post(REGISTER, json=register_body(password=password))
    login = anonymous_client.post(LOGIN, json={"email": "new@example.edu", "password": password})

    assert registered.status_code == 201, registered.get_json()
    assert login.status_code == 200


def test_a_72_byte_password_is_not_truncated_its_71_byte_prefix_does_not_log_in(
    anonymous_client,
):
    password = "é" * 35 + "xy"  # 72 bytes
    anonymous_client.post(REGISTER, json=register_body(password=password))

    response = anonymous_client.post(
        LOGIN, json={"email": "new@example.edu", "password": password[:-1]}
    )

    assert response.status_code == 401


def test_register_hashes_the_password_with_no_transaction_lock_or_connection_held(
    anonymous_client, app, db, monkeypatch
):
    pool = app.extensions[POOL_EXTENSION]
    held_while_hashing = watch_calls(monkeypatch, accounts, "hash_password", db, pool)

    response = anonymous_client.post(REGISTER, json=register_body())

    assert response.status_code == 201
    assert held_while_hashing == [NOTHING_HELD]


# --- refused: nothing is written -----------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "size"),
    [
        pytest.param("x" * 7, 7, id="7-bytes"),
        pytest.param("ééé", 6, id="3-chars-6-bytes"),
        pytest.param("x" * 73, 73, id="73-ascii-bytes"),
        pytest.param("é" * 36 + "x", 73, id="37-chars-73-bytes"),
        pytest.param("€" * 24 + "x", 73, id="25-chars-73-bytes"),
        pytest.param("😀" * 19, 76, id="19-emoji-76-bytes"),
        pytest.param("x" * 1000, 1000, id="1000-bytes"),
    ],
)
def test_register_refuses_passwords_outside_8_to_72_bytes_with_422(
    anonymous_client, db, password, size
):
    response = anonymous_client.post(REGISTER, json=register_body(password=password))

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"password"}
    assert str(size) in body["errors"]["password"][0]
    assert snapshot(db) == EMPTY


@pytest.mark.parametrize(
    ("extra", "value"),
    [
        ("role", "admin"),
        ("role", "instructor"),
        ("is_verified", True),
        ("student_id", 1),
        ("instructor_id", 1),
        ("id", 1),
        ("password_hash", "$2b$04$" + "x" * 53),
    ],
)
def test_register_refuses_unknown_fields_with_422_and_never_obeys_them(
    anonymous_client, db, extra, value
):
    response = anonymous_client.post(REGISTER, json=register_body(**{extra: value}))

    body = assert_problem(response, 422)
    assert body["errors"] == {extra: ["Unknown field."]}
    assert snapshot(db) == EMPTY


def test_even_an_admin_cannot_register_an_admin(client, db):
    before = snapshot(db)

    response = client.post(REGISTER, json=register_body(role="admin", is_verified=True))

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"role", "is_verified"}
    assert snapshot(db) == before


@pytest.mark.parametrize("missing", ["email", "password", "full_name"])
def test_register_without_a_required_field_is_422_naming_it(anonymous_client, db, missing):
    body = register_body()
    del body[missing]

    response = anonymous_client.post(REGISTER, json=body)

    problem = assert_problem(response, 422)
    assert problem["errors"] == {missing: ["This field is required."]}
    assert snapshot(db) == EMPTY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("email", "two@@example.edu"),
        ("email", "with space@example.edu"),
        ("email", ""),
        ("email", 42),
        ("email", None),
        ("email", "x" * 250 + "@example.edu"),
        ("password", 12345678),
        ("password", None),
        ("password", ["a long enough password"]),
        ("full_name", ""),
        ("full_name", "   "),
        ("full_name", "x" * 201),
        ("full_name", 7),
        ("full_name", None),
    ],
)
def test_register_with_an_invalid_field_is_422_naming_it(anonymous_client, db, field, value):
    response = anonymous_client.post(REGISTER, json=register_body(**{field: value}))

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {field}
    assert snapshot(db) == EMPTY


def test_register_names_every_invalid_field_at_once(anonymous_client, db):
    response = anonymous_client.post(
        REGISTER, json={"email": "nope", "password": "short", "full_name": "", "role": "admin"}
    )

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"email", "password", "full_name", "role"}
    assert snapshot(db) == EMPTY


def test_register_with_a_non_json_body_is_415(anonymous_client, db):
    response = anonymous_client.post(REGISTER, data="email=new@example.edu")

    assert_problem(response, 415)
    assert snapshot(db) == EMPTY


@pytest.mark.parametrize("raw", ['["new@example.edu"]', '{"email": ', '"text"', "null"])
def test_register_with_malformed_or_non_object_json_is_400(anonymous_client, db, raw):
    response = anonymous_client.post(REGISTER, data=raw, content_type="application/json")

    assert_problem(response, 400)
    assert snapshot(db) == EMPTY


@pytest.mark.parametrize("email", ["new@example.edu", "NEW@Example.EDU"])
def test_register_with_an_email_already_taken_is_409_and_writes_nothing(
    anonymous_client, db, email
):
    anonymous_client.post(REGISTER, json=register_body())
    before = snapshot(db)

    response = anonymous_client.post(
        REGISTER, json=register_body(email=email, full_name="Someone Else")
    )

    body = assert_problem(response, 409)
    assert "already exists" in body["detail"]
    assert snapshot(db) == before


def test_register_with_an_email_of_an_existing_admin_is_409(anonymous_client, db, make_user):
    make_user("admin", email="boss@example.edu")
    before = snapshot(db)

    response = anonymous_client.post(REGISTER, json=register_body(email="Boss@example.edu"))

    assert_problem(response, 409)
    assert snapshot(db) == before


def test_register_rolls_back_the_user_when_the_student_row_cannot_be_created(anonymous_client, db):
    # A student record (made by an admin) already holds the address, but no user does:
    # the student insert fails after the duplicate check, and nothing of the request stays.
    db.execute("INSERT INTO students (full_name, email) VALUES ('Old', 'new@example.edu')")
    before = snapshot(db)

    response = anonymous_client.post(REGISTER, json=register_body())

    assert_problem(response, 409)
    assert snapshot(db) == before


def test_register_is_one_transaction_a_failing_mail_leaves_no_student_user_or_token(
    anonymous_client, db, monkeypatch
):
    def broken_outbox(*args, **kwargs):
        raise RuntimeError("the outbox insert failed")

    monkeypatch.setattr(mail.outbox, "add", broken_outbox)

    response = anonymous_client.post(REGISTER, json=register_body())

    body = assert_problem(response, 500)
    assert "outbox" not in body["detail"]
    assert snapshot(db) == EMPTY


def test_register_then_login_gives_an_unverified_student_session(anonymous_client):
    anonymous_client.post(REGISTER, json=register_body())

    tokens = anonymous_client.post(
        LOGIN, json={"email": "new@example.edu", "password": PASSWORD}
    ).get_json()
    me = anonymous_client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )

    assert me.status_code == 200
    assert (me.get_json()["role"], me.get_json()["is_verified"]) == ("student", False)


def test_two_registrations_get_distinct_users_students_and_tokens(anonymous_client, db):
    first = anonymous_client.post(REGISTER, json=register_body(email="one@example.edu"))
    second = anonymous_client.post(REGISTER, json=register_body(email="two@example.edu"))

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    assert first.get_json()["student_id"] != second.get_json()["student_id"]
    hashes = db.execute("SELECT token_hash FROM email_verifications").fetchall()
    assert len({row["token_hash"] for row in hashes}) == 2
