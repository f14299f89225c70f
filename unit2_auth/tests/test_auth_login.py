"""POST /api/v1/auth/login: tokens for the right password; the same 401 for an unknown email
and a wrong password (an unknown email still costs a bcrypt check); throttling after 10
failures per account or 50 per client within 15 minutes (429 with Retry-After, even for the
right password), kept in PostgreSQL so that separate server processes share it."""

import re

import jwt
import pytest
from conftest import TEST_PASSWORD, TEST_SECRET_KEY
from helpers import NOTHING_HELD, assert_problem, watch_calls

from scheduler.extensions import DUMMY_HASH_EXTENSION
from scheduler.services import auth as auth_service
from scheduler_common.db import POOL_EXTENSION, close_pool

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
ME = "/api/v1/auth/me"
WRONG = "a wrong password"
ACCOUNT_LIMIT = 10
CLIENT_LIMIT = 50
WINDOW_SECONDS = 15 * 60


def login(client, email: str, password: str = TEST_PASSWORD, *, remote: str = "127.0.0.1"):
    """POST a login from the given client address."""
    return client.post(
        LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": remote}
    )


def fail(client, email: str, times: int = 1, *, remote: str = "127.0.0.1") -> None:
    """Fail to log in `times` times, checking each is an ordinary 401."""
    for _ in range(times):
        response = login(client, email, WRONG, remote=remote)
        assert response.status_code == 401, response.get_json()


def retry_after(response) -> int:
    """The 429's Retry-After header: a positive whole number of seconds."""
    header = response.headers.get("Retry-After")
    assert header is not None and re.fullmatch(r"[1-9][0-9]*", header), header
    return int(header)


def failure_count(db) -> int:
    return db.execute("SELECT count(*) AS n FROM failed_logins").fetchone()["n"]


@pytest.fixture
def user(make_user) -> dict:
    """A verified student whose password is TEST_PASSWORD."""
    return make_user("student", email="ada@example.edu")


@pytest.fixture
def password_checks(monkeypatch) -> list[tuple[str, str]]:
    """Record every (password, hash) the login service checks, still checking for real."""
    calls: list[tuple[str, str]] = []
    real = auth_service.password_matches

    def spy(password: str, password_hash: str) -> bool:
        calls.append((password, password_hash))
        return real(password, password_hash)

    monkeypatch.setattr(auth_service, "password_matches", spy)
    return calls


# --- success ------------------------------------------------------------------------------


def test_login_with_the_right_password_returns_bearer_tokens(anonymous_client, user):
    response = login(anonymous_client, "ada@example.edu")

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    # Tokens are credentials: no cache may keep them.
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert isinstance(body["refresh_token"], str) and len(body["refresh_token"]) >= 43
    assert body["refresh_token"] != body["access_token"]


def test_the_access_token_is_hs256_with_sub_role_iat_exp(anonymous_client, user):
    token = login(anonymous_client, "ada@example.edu").get_json()["access_token"]

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, TEST_SECRET_KEY, algorithms=["HS256"])
    assert set(claims) == {"sub", "role", "iat", "exp"}
    assert claims["sub"] == str(user["id"])
    assert claims["role"] == "student"
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_the_access_token_opens_auth_me(anonymous_client, user):
    token = login(anonymous_client, "ada@example.edu").get_json()["access_token"]

    response = anonymous_client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.get_json() == user


@pytest.mark.parametrize("email", ["ADA@Example.EDU", "  ada@example.edu  "])
def test_login_email_is_case_insensitive_and_trimmed(anonymous_client, user, email):
    assert login(anonymous_client, email).status_code == 200


def test_an_unverified_user_may_log_in(anonymous_client, make_user):
    make_user("student", email="new@example.edu", verified=False)

    assert login(anonymous_client, "new@example.edu").status_code == 200


@pytest.mark.parametrize("role", ["admin", "instructor", "student"])
def test_every_role_logs_in_and_the_token_names_it(anonymous_client, make_user, role):
    account = make_user(role)

    token = login(anonymous_client, account["email"]).get_json()["access_token"]

    assert jwt.decode(token, TEST_SECRET_KEY, algorithms=["HS256"])["role"] == role


def test_a_successful_login_records_no_failure(anonymous_client, db, user):
    login(anonymous_client, "ada@example.edu")

    assert failure_count(db) == 0


def test_each_login_starts_a_new_refresh_token(anonymous_client, db, user):
    first = login(anonymous_client, "ada@example.edu").get_json()
    second = login(anonymous_client, "ada@example.edu").get_json()

    assert first["refresh_token"] != second["refresh_token"]
    families = db.execute("SELECT DISTINCT family_id FROM refresh_tokens").fetchall()
    assert len(families) == 2


# --- wrong credentials: one answer --------------------------------------------------------


def test_a_wrong_password_is_401_with_www_authenticate_bearer(anonymous_client, user):
    response = login(anonymous_client, "ada@example.edu", WRONG)

    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "access_token" not in body


def test_unknown_email_and_wrong_password_get_the_same_401(anonymous_client, user):
    wrong_password = login(anonymous_client, "ada@example.edu", WRONG)
    unknown_email = login(anonymous_client, "nobody@example.edu", WRONG)

    assert unknown_email.status_code == wrong_password.status_code == 401
    assert unknown_email.get_json() == wrong_password.get_json()
    assert unknown_email.headers["WWW-Authenticate"] == wrong_password.headers["WWW-Authenticate"]
    assert unknown_email.mimetype == wrong_password.mimetype


def test_the_right_password_for_an_unknown_email_is_refused(anonymous_client, user):
    response = login(anonymous_client, "ada@example.org")

    assert_problem(response, 401)


def test_an_unknown_email_still_runs_a_bcrypt_check_against_a_dummy_hash(
    anonymous_client, user, password_checks
):
    response = login(anonymous_client, "nobody@example.edu", WRONG)

    assert response.status_code == 401
    assert len(password_checks) == 1
    password, checked_hash = password_checks[0]
    assert password == WRONG
    assert re.fullmatch(r"\$2b\$04\$.{53}", checked_hash)  # a real hash, at the app's cost


def test_an_unknown_email_is_checked_even_with_the_password_of_another_user(
    anonymous_client, db, user, password_checks
):
    stored = db.execute("SELECT password_hash FROM users").fetchone()["password_hash"]

    response = login(anonymous_client, "nobody@example.edu")

    assert response.status_code == 401
    assert len(password_checks) == 1
    assert password_checks[0][1] != stored


def test_a_wrong_password_is_checked_against_the_users_hash(
    anonymous_client, db, user, password_checks
):
    stored = db.execute("SELECT password_hash FROM users").fetchone()["password_hash"]

    login(anonymous_client, "ada@example.edu", WRONG)

    assert password_checks == [(WRONG, stored)]


def test_a_failed_login_is_recorded_with_its_email_and_client(anonymous_client, db, user):
    login(anonymous_client, "Ada@example.edu", WRONG, remote="198.51.100.7")

    rows = db.execute("SELECT email, client FROM failed_logins").fetchall()
    assert rows == [{"email": "Ada@example.edu", "client": "198.51.100.7"}]


def test_a_failed_login_for_an_unknown_email_is_recorded_too(anonymous_client, db):
    login(anonymous_client, "nobody@example.edu", WRONG)

    assert failure_count(db) == 1


# --- bcrypt runs with nothing held -------------------------------------------------------


@pytest.fixture
def held_while_checking(monkeypatch, app, db) -> list[dict[str, int]]:
    """What the app holds of the database during each password check (which still runs)."""
    pool = app.extensions[POOL_EXTENSION]
    return watch_calls(monkeypatch, auth_service, "password_matches", db, pool)


@pytest.mark.parametrize(
    ("email", "password", "status"),
    [
        pytest.param("ada@example.edu", TEST_PASSWORD, 200, id="right-password"),
        pytest.param("ada@example.edu", WRONG, 401, id="wrong-password"),
        pytest.param("nobody@example.edu", WRONG, 401, id="unknown-email"),
    ],
)
def test_bcrypt_runs_with_no_transaction_lock_or_connection_held(
    anonymous_client, user, held_while_checking, email, password, status
):
    response = login(anonymous_client, email, password)

    assert response.status_code == status
    assert held_while_checking == [NOTHING_HELD]


def test_an_attempt_counts_as_a_failure_until_its_password_proves_right(
    anonymous_client, app, db, user, monkeypatch
):
    fail(anonymous_client, "ada@example.edu", ACCOUNT_LIMIT - 1)
    meanwhile = []
    real = auth_service.password_matches

    def check_while_another_tries(password: str, password_hash: str) -> bool:
        # The tenth attempt is in flight and holds the last place under the limit: no
        # concurrent attempt may take it too (so concurrent ones never pass the limit).
        if password == TEST_PASSWORD:
            meanwhile.append(login(app.test_client(), "ada@example.edu", WRONG).status_code)
        return real(password, password_hash)

    monkeypatch.setattr(auth_service, "password_matches", check_while_another_tries)

    response = login(anonymous_client, "ada@example.edu")

    assert response.status_code == 200
    assert meanwhile == [429]
    assert failure_count(db) == ACCOUNT_LIMIT - 1


def test_an_account_deleted_while_its_password_is_checked_is_refused_and_counted(
    anonymous_client, db, user, monkeypatch
):
    real = auth_service.password_matches

    def delete_then_check(password: str, password_hash: str) -> bool:
        # Deleting the student deletes their user too (ON DELETE CASCADE).
        db.execute("DELETE FROM students WHERE id = %s", (user["student_id"],))
        return real(password, password_hash)

    monkeypatch.setattr(auth_service, "password_matches", delete_then_check)

    response = login(anonymous_client, "ada@example.edu")

    assert_problem(response, 401)
    assert failure_count(db) == 1


# --- validation ---------------------------------------------------------------------------


def test_login_does_not_apply_the_new_password_length_rule(anonymous_client, db, user):
    # A short password is simply wrong (401): the 8-byte rule is for choosing one.
    response = login(anonymous_client, "ada@example.edu", "short")

    assert_problem(response, 401)
    assert failure_count(db) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"password": TEST_PASSWORD}, id="no-email"),
        pytest.param({"email": "ada@example.edu"}, id="no-password"),
        pytest.param({"email": "not-an-email", "password": TEST_PASSWORD}, id="bad-email"),
        pytest.param({"email": "ada@example.edu", "password": 12345678}, id="number-password"),
        pytest.param({"email": "ada@example.edu", "password": ""}, id="empty-password"),
        pytest.param(
            {"email": "ada@example.edu", "password": TEST_PASSWORD, "remember": True},
            id="unknown-field",
        ),
    ],
)
def test_a_malformed_login_is_422_and_not_counted_as_a_failure(anonymous_client, db, user, body):
    response = anonymous_client.post(LOGIN, json=body)

    assert_problem(response, 422)
    assert failure_count(db) == 0


def test_a_login_that_is_not_json_is_415(anonymous_client, db, user):
    response = anonymous_client.post(LOGIN, data="email=ada@example.edu&password=x")

    assert_problem(response, 415)
    assert failure_count(db) == 0


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("  spaced out password  ", id="surrounding-spaces"),
        pytest.param(" " * 8, id="eight-spaces"),
    ],
)
def test_a_password_with_surrounding_spaces_logs_in_exactly_as_registered(
    anonymous_client, password
):
    registered = anonymous_client.post(
        REGISTER, json={"email": "sp@example.edu", "password": password, "full_name": "Sp Ace"}
    )
    assert registered.status_code == 201

    assert login(anonymous_client, "sp@example.edu", password).status_code == 200


def test_a_trimmed_password_does_not_log_in_when_the_spaces_were_registered(anonymous_client):
    anonymous_client.post(
        REGISTER,
        json={"email": "sp@example.edu", "password": " spaced password ", "full_name": "Sp Ace"},
    )

    assert login(anonymous_client, "sp@example.edu", "spaced password").status_code == 401


@pytest.mark.parametrize("email", ["ada@example.edu", "nobody@example.edu"])
@pytest.mark.parametrize(
    "password",
    [
        pytest.param("x" * 73, id="73-ascii-bytes"),
        pytest.param("é" * 37, id="37-chars-74-bytes"),
        pytest.param("x" * 1024, id="1024-bytes"),
    ],
)
def test_a_password_over_72_bytes_is_simply_wrong_401_and_counted(
    anonymous_client, db, user, email, password
):
    expected = login(anonymous_client, "ada@example.edu", WRONG).get_json()

    response = login(anonymous_client, email, password)

    assert_problem(response, 401)
    assert response.get_json() == expected
    assert failure_count(db) == 2


# --- throttling per account ---------------------------------------------------------------


def test_ten_failures_lock_the_account_with_429_and_retry_after(anonymous_client, user):
    fail(anonymous_client, "ada@example.edu", ACCOUNT_LIMIT)

    response = login(anonymous_client, "ada@example.edu", WRONG)

    body = assert_problem(response, 429)
    assert "Too many" in body["detail"]
    assert 1 <= retry_after(response) <= WINDOW_SECONDS


def test_a_throttled_account_is_refused_even_with_the_right_password(anonymous_client, user):
    fail(anonymous_client, "ada@example.edu", ACCOUNT_LIMIT)

    response = login(anonymous_client, "ada@example.edu")

    assert_problem(response, 429)
    assert 1 <= retry_after(response) <= WINDOW_SECONDS
    assert "access_token" not in response.get_json()


def test_nine_failures_still_let_the_right_password_in(anonymous_client, user):
    fail(anonymous_client, "ada@example.edu", ACCOUNT_LIMIT - 1)

    assert login(anonymous_client, "ada@example.edu").status_code == 200


def test_the_tenth_failure_is_still_an_ordinary_401(anonymous_client, user):
    fail(anonymous_client, "ada@example.edu", ACCOUNT_LIMIT - 1)

    response = login(anonymous_client, "ada@example.edu", WRONG)

    assert_problem(response, 401)
    assert "Retry-After" not in response.headers


def test_a_throttled_login_does_not_check_the_password(anonymous_client, user, password_checks):
    fail(anonymous_client, "ada@example.edu", ACCOUNT_LIMIT)
    password_checks.clear()

    login(anonymous_client, "ada@example.edu")

    assert password_checks == []


def test_account_failures_count_whatever_the_email_case(anonymous_client, user):
    for index in range(ACCOUNT_LIMIT):
        email = "ADA@EXAMPLE.EDU" if index % 2 else "ada@example.edu"
        fail(anonymous_client, email)

    assert_problem(login(anonymous_client, "Ada@Example.edu"), 429)


def test_the_account_lock_holds_from_every_client_address(anonymous_client, user):
    for index in range(ACCOUNT_LIMIT):
        fail(anonymous_client, "ada@example.edu", remote=f"203.0.113.{index}")

    response = login(anonymous_client, "ada@example.edu", remote="198.51.100.99")

    assert_problem(response, 429)


def test_an_unknown_email_is_throttled_like_a_real_one(anonymous_client):
    fail(anonymous_client, "nobody@example.edu", ACCOUNT_LIMIT)

    response = login(anonymous_client, "nobody@example.edu", WRONG)

    assert_problem(response, 429)
    assert 1 <= retry_after(response) <= WINDOW_SECONDS


def test_a_throttled_account_does_not_lock_other_accounts(anonymous_client, make_user, user):
    other = make_user("student", email="bob@example.edu")
    fail(anonymous_client, "ada@example.edu", ACCOUNT_LIMIT)

    assert login(anonymous_client, other["email"]).status_code == 200


def test_failures_older_than_15_minutes_no_longer_count(anonymous_client, db, user):
    db.execute(
        "INSERT INTO failed_logins (email, client, attempted_at)"
        " SELECT 'ada@example.edu', '127.0.0.1', now() - interval '16 minutes'"
        "   FROM generate_series(1, %s)",
        (ACCOUNT_LIMIT * 2,),
    )

    assert login(anonymous_client, "ada@example.edu").status_code == 200


def test_retry_after_counts_down_from_the_oldest_failure_in_the_window(anonymous_client, db, user):
    db.execute(
        "INSERT INTO failed_logins (email, client, attempted_at)"
        " SELECT 'ada@example.edu', '127.0.0.1', now() - interval '14 minutes'"
        "   FROM generate_series(1, %s)",
        (ACCOUNT_LIMIT,),
    )

    response = login(anonymous_client, "ada@example.edu")

    assert_problem(response, 429)
    assert 1 <= retry_after(response) <= 60


def test_throttling_is_shared_by_separate_app_instances(app_factory, database_url, make_user):
    make_user("student", email="ada@example.edu")
    apps = [app_factory({"TESTING": True, "DATABASE_URL": database_url}) for _ in range(2)]
    try:
        first, second = (instance.test_client() for instance in apps)
        for index in range(ACCOUNT_LIMIT):
            fail(second if index % 2 else first, "ada@example.edu")

        refused_first = login(first, "ada@example.edu")
        refused_second = login(second, "ada@example.edu")
    finally:
        for instance in apps:
            close_pool(instance)

    assert_problem(refused_first, 429)
    assert_problem(refused_second, 429)


def test_failures_made_by_one_app_instance_throttle_another(app_factory, database_url, make_user):
    make_user("student", email="ada@example.edu")
    apps = [app_factory({"TESTING": True, "DATABASE_URL": database_url}) for _ in range(2)]
    try:
        first, second = (instance.test_client() for instance in apps)
        fail(first, "ada@example.edu", ACCOUNT_LIMIT)

        response = login(second, "ada@example.edu")
    finally:
        for instance in apps:
            close_pool(instance)

    assert_problem(response, 429)
    assert 1 <= retry_after(response) <= WINDOW_SECONDS


# --- throttling per client ----------------------------------------------------------------


def test_fifty_failures_from_one_client_throttle_it_for_every_account(anonymous_client, user):
    for index in range(CLIENT_LIMIT):
        fail(anonymous_client, f"guess{index}@example.edu", remote="203.0.113.9")

    response = login(anonymous_client, "ada@example.edu", remote="203.0.113.9")

    assert_problem(response, 429)
    assert 1 <= retry_after(response) <= WINDOW_SECONDS


def test_a_throttled_client_does_not_lock_the_account_for_other_clients(anonymous_client, user):
    for index in range(CLIENT_LIMIT):
        fail(anonymous_client, f"guess{index}@example.edu", remote="203.0.113.9")

    assert login(anonymous_client, "ada@example.edu", remote="198.51.100.1").status_code == 200


def test_forty_nine_client_failures_are_not_yet_throttled(anonymous_client, db, user):
    db.execute(
        "INSERT INTO failed_logins (email, client)"
        " SELECT 'guess' || n || '@example.edu', '203.0.113.9' FROM generate_series(1, %s) AS n",
        (CLIENT_LIMIT - 1,),
    )

    assert login(anonymous_client, "ada@example.edu", remote="203.0.113.9").status_code == 200


def test_client_failures_older_than_15_minutes_no_longer_count(anonymous_client, db, user):
    db.execute(
        "INSERT INTO failed_logins (email, client, attempted_at)"
        " SELECT 'guess' || n || '@example.edu', '203.0.113.9', now() - interval '16 minutes'"
        "   FROM generate_series(1, %s) AS n",
        (CLIENT_LIMIT,),
    )

    assert login(anonymous_client, "ada@example.edu", remote="203.0.113.9").status_code == 200


def test_client_throttling_is_shared_by_separate_app_instances(
    app_factory, database_url, make_user
):
    make_user("student", email="ada@example.edu")
    apps = [app_factory({"TESTING": True, "DATABASE_URL": database_url}) for _ in range(2)]
    try:
        first, second = (instance.test_client() for instance in apps)
        for index in range(CLIENT_LIMIT):
            client = second if index % 2 else first
            fail(client, f"guess{index}@example.edu", remote="203.0.113.9")

        response = login(first, "ada@example.edu", remote="203.0.113.9")
    finally:
        for instance in apps:
            close_pool(instance)

    assert_problem(response, 429)


def test_the_dummy_hash_is_made_when_the_app_starts_not_at_the_first_login(
    app_factory, database_url, monkeypatch, password_checks
):
    hashes_made = []
    real = auth_service.hash_password

    def counting_hash(password: str, rounds: int) -> str:
        hashes_made.append(rounds)
        return real(password, rounds)

    monkeypatch.setattr(auth_service, "hash_password", counting_hash)
    app = app_factory({"TESTING": True, "DATABASE_URL": database_url})
    try:
        assert hashes_made == [4]  # at start-up, at the app's cost
        dummy = app.extensions[DUMMY_HASH_EXTENSION]

        response = login(app.test_client(), "nobody@example.edu", WRONG)

        assert response.status_code == 401
        assert hashes_made == [4]  # the first unknown-email login made no hash of its own
        assert password_checks == [(WRONG, dummy)]
    finally:
        close_pool(app)
