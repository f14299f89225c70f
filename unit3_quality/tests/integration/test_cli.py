"""`flask --app scheduler create-admin EMAIL`: the only way to make an admin. It prompts twice
on a terminal and reads one line when the password is piped in, creates a verified admin,
and refuses a bad email, a password outside 8–72 bytes or a taken address with a clear
error and exit status 1, writing nothing."""

from types import SimpleNamespace

import bcrypt
import pytest
from helpers import NOTHING_HELD, watch_calls
from psycopg import sql

from scheduler import cli as cli_module
from scheduler.services import accounts
from scheduler_common.db import POOL_EXTENSION

PASSWORD = "a long admin password"


def create_admin(app, email: str = "a@b.edu", input: str | None = f"{PASSWORD}\n"):
    """Run `flask create-admin EMAIL` with `input` on stdin."""
    return app.test_cli_runner().invoke(args=["create-admin", email], input=input)


def users(db) -> list[dict]:
    return db.execute("SELECT * FROM users ORDER BY id").fetchall()


def row_counts(db) -> dict[str, int]:
    query = sql.SQL("SELECT count(*) AS n FROM {}")
    return {
        table: db.execute(query.format(sql.Identifier(table))).fetchone()["n"]
        for table in ("users", "students", "instructors", "email_verifications", "outbox")
    }


@pytest.fixture
def terminal(monkeypatch):
    """Make the command believe stdin is a terminal, so it prompts (CliRunner answers)."""

    class TerminalStdin:
        def isatty(self) -> bool:
            return True

        def readline(self) -> str:
            raise AssertionError("on a terminal the password is prompted for, not read")

    monkeypatch.setattr(cli_module, "sys", SimpleNamespace(stdin=TerminalStdin()))


# --- piped --------------------------------------------------------------------------------


def test_create_admin_with_a_piped_password_creates_a_verified_admin(app, db):
    result = create_admin(app)

    assert result.exit_code == 0, result.output
    [user] = users(db)
    assert result.output.strip() == f"Created admin a@b.edu (id {user['id']})."
    assert (user["email"], user["role"], user["is_verified"]) == ("a@b.edu", "admin", True)
    assert (user["student_id"], user["instructor_id"]) == (None, None)


def test_create_admin_stores_a_bcrypt_hash_and_writes_nothing_else(app, db):
    create_admin(app)

    [user] = users(db)
    assert user["password_hash"].startswith("$2b$")
    assert PASSWORD not in user["password_hash"]
    assert bcrypt.checkpw(PASSWORD.encode(), user["password_hash"].encode())
    assert row_counts(db) == {
        "users": 1,
        "students": 0,
        "instructors": 0,
        "email_verifications": 0,
        "outbox": 0,
    }


def test_create_admin_never_prints_the_password(app):
    result = create_admin(app)

    assert PASSWORD not in result.output


def test_the_new_admin_logs_in_and_may_write_the_catalog(app):
    create_admin(app)
    client = app.test_client()

    tokens = client.post("/api/v1/auth/login", json={"email": "a@b.edu", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {tokens.get_json()['access_token']}"}
    me = client.get("/api/v1/auth/me", headers=headers)
    room = client.post("/api/v1/rooms", json={"name": "Hall", "capacity": 10}, headers=headers)

    assert tokens.status_code == 200
    assert (me.get_json()["role"], me.get_json()["is_verified"]) == ("admin", True)
    assert room.status_code == 201


def test_a_piped_password_is_one_line_without_its_line_ending(app, db):
    result = create_admin(app, input=f"{PASSWORD}\r\nsecond line\n")

    assert result.exit_code == 0, result.output
    stored = users(db)[0]["password_hash"].encode()
    assert bcrypt.checkpw(PASSWORD.encode(), stored)


def test_a_piped_password_keeps_its_other_whitespace(app, db):
    create_admin(app, input=" spaced password \n")

    stored = users(db)[0]["password_hash"].encode()
    assert bcrypt.checkpw(b" spaced password ", stored)
    assert not bcrypt.checkpw(b"spaced password", stored)


def test_an_admin_whose_password_has_surrounding_spaces_can_log_in(app):
    create_admin(app, input=" spaced password \n")

    response = app.test_client().post(
        "/api/v1/auth/login", json={"email": "a@b.edu", "password": " spaced password "}
    )

    assert response.status_code == 200


def test_a_piped_password_without_a_final_newline_is_read(app, db):
    result = create_admin(app, input=PASSWORD)

    assert result.exit_code == 0, result.output
    assert bcrypt.checkpw(PASSWORD.encode(), users(db)[0]["password_hash"].encode())


def test_a_72_byte_multibyte_password_is_accepted(app, db):
    password = "é" * 36

    result = create_admin(app, input=f"{password}\n")

    assert result.exit_code == 0, result.output
    assert bcrypt.checkpw(password.encode(), users(db)[0]["password_hash"].encode())


def test_the_email_is_trimmed(app, db):
    result = create_admin(app, email="  a@b.edu  ")

    assert result.exit_code == 0, result.output
    assert users(db)[0]["email"] == "a@b.edu"


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a@@b.edu", "a b@c.edu"])
def test_a_bad_email_is_a_clear_error_with_exit_status_1(app, db, email):
    result = create_admin(app, email=email)

    assert result.exit_code == 1
    assert result.output == "Error: email: Must be an email address.\n"
    assert users(db) == []


@pytest.mark.parametrize("email", ["", "   "])
def test_an_empty_email_is_an_error_with_exit_status_1(app, db, email):
    result = create_admin(app, email=email)

    assert result.exit_code == 1
    assert result.output == "Error: email: Must not be empty.\n"
    assert users(db) == []


@pytest.mark.parametrize(
    ("password", "size"),
    [
        pytest.param("", 0, id="empty-line"),
        pytest.param("short", 5, id="5-bytes"),
        pytest.param("x" * 7, 7, id="7-bytes"),
        pytest.param("ééé", 6, id="3-chars-6-bytes"),
        pytest.param("x" * 73, 73, id="73-bytes"),
        pytest.param("é" * 36 + "x", 73, id="37-chars-73-bytes"),
    ],
)
def test_a_password_outside_8_to_72_bytes_is_a_clear_error_with_exit_status_1(
    app, db, password, size
):
    result = create_admin(app, input=f"{password}\n")

    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "8 to 72 bytes" in result.output
    assert f"this is {size}" in result.output
    assert users(db) == []


def test_no_input_at_all_is_a_clear_error(app, db):
    result = create_admin(app, input="")

    assert result.exit_code == 1
    assert "8 to 72 bytes" in result.output
    assert users(db) == []


@pytest.mark.parametrize("email", ["a@b.edu", "A@B.EDU"])
def test_a_taken_email_is_a_clear_error_with_exit_status_1(app, db, email):
    create_admin(app)
    before = users(db)

    result = create_admin(app, email=email, input="another long password\n")

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert users(db) == before


def test_the_email_of_a_registered_student_is_taken(app, db, make_user):
    make_user("student", email="a@b.edu")
    before = row_counts(db)

    result = create_admin(app)

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert row_counts(db) == before


def test_the_email_argument_is_required(app, db):
    result = app.test_cli_runner().invoke(args=["create-admin"], input=f"{PASSWORD}\n")

    assert result.exit_code == 2
    assert "ADDRESS" in result.output
    assert users(db) == []


# --- on a terminal ------------------------------------------------------------------------


@pytest.mark.usefixtures("terminal")
def test_on_a_terminal_the_password_is_prompted_for_twice(app, db):
    result = create_admin(app, input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1
    assert "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    [user] = users(db)
    assert (user["role"], user["is_verified"]) == ("admin", True)
    assert bcrypt.checkpw(PASSWORD.encode(), user["password_hash"].encode())


@pytest.mark.usefixtures("terminal")
def test_on_a_terminal_a_mismatch_asks_again(app, db):
    result = create_admin(app, input=f"{PASSWORD}\ntypo password\n{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert bcrypt.checkpw(PASSWORD.encode(), users(db)[0]["password_hash"].encode())


@pytest.mark.usefixtures("terminal")
def test_on_a_terminal_a_mismatch_and_no_more_input_aborts(app, db):
    result = create_admin(app, input=f"{PASSWORD}\ntypo password\n")

    assert result.exit_code == 1
    assert "do not match" in result.output
    assert users(db) == []


@pytest.mark.usefixtures("terminal")
def test_on_a_terminal_a_short_password_is_a_clear_error(app, db):
    result = create_admin(app, input="short\nshort\n")

    assert result.exit_code == 1
    assert "8 to 72 bytes" in result.output
    assert users(db) == []


@pytest.mark.usefixtures("terminal")
def test_on_a_terminal_a_bad_email_fails_before_asking_for_a_password(app, db):
    result = create_admin(app, email="nope", input="")

    assert result.exit_code == 1
    assert "Password" not in result.output
    assert users(db) == []


# --- create-instructor-account ------------------------------------------------------------


def create_instructor_account(app, instructor_id: str, input: str | None = f"{PASSWORD}\n"):
    """Run `flask create-instructor-account ID` with `input` on stdin."""
    return app.test_cli_runner().invoke(
        args=["create-instructor-account", instructor_id], input=input
    )


def test_create_instructor_account_gives_the_instructor_a_verified_login(app, db, anonymous_client):
    instructor = db.execute(
        "INSERT INTO instructors (full_name, email) VALUES ('Ada', 'Ada@Example.edu') RETURNING id"
    ).fetchone()

    result = create_instructor_account(app, str(instructor["id"]))

    assert result.exit_code == 0, result.output
    [user] = users(db)
    assert (user["email"], user["role"], user["is_verified"], user["instructor_id"]) == (
        "Ada@Example.edu",
        "instructor",
        True,
        instructor["id"],
    )
    login = anonymous_client.post(
        "/api/v1/auth/login", json={"email": "ada@example.edu", "password": PASSWORD}
    )
    assert login.status_code == 200


def test_both_commands_hash_the_password_with_no_transaction_lock_or_connection_held(
    app, db, monkeypatch
):
    pool = app.extensions[POOL_EXTENSION]
    held_while_hashing = watch_calls(monkeypatch, accounts, "hash_password", db, pool)
    instructor = db.execute(
        "INSERT INTO instructors (full_name, email) VALUES ('Ada', 'ada@example.edu') RETURNING id"
    ).fetchone()

    results = [create_admin(app), create_instructor_account(app, str(instructor["id"]))]

    assert [result.exit_code for result in results] == [0, 0]
    assert held_while_hashing == [NOTHING_HELD, NOTHING_HELD]


def test_create_instructor_account_for_a_missing_instructor_is_an_error(app, db):
    result = create_instructor_account(app, "999")

    assert result.exit_code == 1
    assert result.output == "Error: No instructor with id 999.\n"
    assert users(db) == []


def test_create_instructor_account_twice_is_an_error_and_changes_nothing(app, db):
    instructor = db.execute(
        "INSERT INTO instructors (full_name, email) VALUES ('Ada', 'ada@example.edu') RETURNING id"
    ).fetchone()
    assert create_instructor_account(app, str(instructor["id"])).exit_code == 0
    before = row_counts(db)

    result = create_instructor_account(app, str(instructor["id"]))

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert row_counts(db) == before


def test_create_instructor_account_refuses_a_short_password(app, db):
    instructor = db.execute(
        "INSERT INTO instructors (full_name, email) VALUES ('Ada', 'ada@example.edu') RETURNING id"
    ).fetchone()

    result = create_instructor_account(app, str(instructor["id"]), input="short\n")

    assert result.exit_code == 1
    assert result.output.startswith("Error: password: Must be 8 to 72 bytes long")
    assert users(db) == []
