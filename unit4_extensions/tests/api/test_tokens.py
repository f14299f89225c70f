"""Access tokens at GET /api/v1/auth/me (missing → 401 `Bearer`; malformed, expired, not yet
valid, forged, re-algorithmed, tampered, incomplete or orphaned → 401 `invalid_token`) and on
public reads (a bad one is a 401 there too), and refresh tokens: rotated on every use, a reused
one revoking its whole family, logout revoking the family, and only SHA-256 hashes ever stored."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from helpers import assert_problem
from jwt.utils import base64url_encode
from settings import TEST_PASSWORD, TEST_SECRET_KEY, token_for

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
INVALID_TOKEN = 'Bearer error="invalid_token"'
OTHER_KEY = "another-secret-key-that-is-also-32-bytes-long!!"
USER_KEYS = {"id", "email", "role", "is_verified", "student_id", "instructor_id"}
TOKEN_KEYS = {"access_token", "token_type", "expires_in", "refresh_token"}


def forge(claims: dict, key=TEST_SECRET_KEY, algorithm: str = "HS256") -> str:
    """Sign any claims with any key and algorithm."""
    return jwt.encode(claims, key, algorithm=algorithm)


def claims_for(user: dict, **overrides) -> dict:
    """A complete, currently valid claim set for the user; None in `overrides` drops a claim."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user["id"]),
        "role": user["role"],
        "iat": now,
        "exp": now + timedelta(minutes=15),
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def me(client, authorization: str | None):
    """GET /auth/me with the given Authorization header (or none)."""
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.get(ME, headers=headers)


def assert_invalid_token(response) -> dict:
    """A 401 problem that tells the client its token was bad (RFC 6750)."""
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    return body


def log_in(client, email: str) -> dict:
    """Log in with TEST_PASSWORD and return the token pair."""
    response = client.post(LOGIN, json={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refresh(client, refresh_token):
    return client.post(REFRESH, json={"refresh_token": refresh_token})


def logout(client, refresh_token):
    return client.post(LOGOUT, json={"refresh_token": refresh_token})


def token_rows(db) -> list[dict]:
    return db.execute("SELECT * FROM refresh_tokens ORDER BY id").fetchall()


@pytest.fixture
def user(make_user) -> dict:
    """A verified student whose password is TEST_PASSWORD."""
    return make_user("student", email="ada@example.edu")


# --- GET /auth/me -------------------------------------------------------------------------


def test_me_with_a_valid_token_returns_the_user(anonymous_client, user):
    response = me(anonymous_client, f"Bearer {token_for(user)}")

    assert response.status_code == 200
    assert response.get_json() == user
    assert set(response.get_json()) == USER_KEYS


@pytest.mark.parametrize("role", ["admin", "instructor", "student"])
def test_me_shows_the_links_of_each_role(anonymous_client, make_user, role):
    account = make_user(role)

    body = me(anonymous_client, f"Bearer {token_for(account)}").get_json()

    assert body["role"] == role
    assert (body["student_id"] is not None) == (role == "student")
    assert (body["instructor_id"] is not None) == (role == "instructor")


def test_the_bearer_scheme_is_case_insensitive(anonymous_client, user):
    assert me(anonymous_client, f"bearer {token_for(user)}").status_code == 200


def test_me_without_a_token_is_401_with_a_plain_bearer_challenge(anonymous_client):
    response = me(anonymous_client, None)

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Bearer    ", id="scheme-and-spaces"),
        pytest.param("Basic dXNlcjpwYXNzd29yZA==", id="basic"),
        pytest.param("Token abc.def.ghi", id="other-scheme"),
        pytest.param("Bearer not-a-jwt", id="not-a-jwt"),
        pytest.param("Bearer a.b.c", id="three-garbage-parts"),
        pytest.param("Bearer a b", id="two-tokens"),
    ],
)
def test_me_with_a_malformed_authorization_header_is_401_invalid_token(
    anonymous_client, authorization
):
    assert_invalid_token(me(anonymous_client, authorization))


def test_me_with_the_token_but_no_scheme_is_401_invalid_token(anonymous_client, user):
    assert_invalid_token(me(anonymous_client, token_for(user)))


def test_me_with_an_expired_token_is_401_invalid_token(anonymous_client, user):
    expired = token_for(user, lifetime=timedelta(seconds=-1))

    assert_invalid_token(me(anonymous_client, f"Bearer {expired}"))


def test_me_with_an_iat_in_the_future_is_401_invalid_token(anonymous_client, user):
    future = datetime.now(UTC) + timedelta(minutes=10)
    token = forge(claims_for(user, iat=future, exp=future + timedelta(minutes=15)))

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


def test_me_with_an_nbf_in_the_future_is_401_invalid_token(anonymous_client, user):
    token = forge(claims_for(user, nbf=datetime.now(UTC) + timedelta(minutes=10)))

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


def test_me_with_a_token_signed_with_another_key_is_401_invalid_token(anonymous_client, user):
    token = forge(claims_for(user), key=OTHER_KEY)

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_me_with_a_token_of_another_algorithm_and_the_right_key_is_401_invalid_token(
    anonymous_client, user, algorithm
):
    token = forge(claims_for(user), algorithm=algorithm)

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


def test_me_with_an_alg_none_token_is_401_invalid_token(anonymous_client, user):
    token = forge(claims_for(user), key=None, algorithm="none")

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


def test_me_with_an_alg_none_token_and_no_signature_part_is_401_invalid_token(
    anonymous_client, user
):
    header = base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    payload = base64url_encode(json.dumps(claims_for(user), default=str).encode()).decode()

    assert_invalid_token(me(anonymous_client, f"Bearer {header}.{payload}."))


@pytest.mark.parametrize("change", [{"role": "admin"}, {"sub": "1"}])
def test_me_with_a_tampered_payload_is_401_invalid_token(anonymous_client, user, change):
    header, _, signature = token_for(user).split(".")
    claims = {**jwt.decode(token_for(user), TEST_SECRET_KEY, algorithms=["HS256"]), **change}
    payload = base64url_encode(json.dumps(claims).encode()).decode()

    assert_invalid_token(me(anonymous_client, f"Bearer {header}.{payload}.{signature}"))


@pytest.mark.parametrize("missing", ["exp", "sub", "iat", "role"])
def test_me_with_a_token_missing_a_claim_is_401_invalid_token(anonymous_client, user, missing):
    token = forge(claims_for(user, **{missing: None}))

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


@pytest.mark.parametrize(
    "sub",
    [
        pytest.param("abc", id="not-a-number"),
        pytest.param("1.5", id="fraction"),
        pytest.param("", id="empty"),
        pytest.param(1, id="integer-not-string"),
        pytest.param("0", id="zero"),
        pytest.param("-1", id="negative"),
        pytest.param("999999", id="no-such-user"),
        pytest.param("99999999999999999999", id="past-bigint"),
    ],
)
def test_me_with_a_sub_that_names_no_user_is_401_invalid_token(anonymous_client, user, sub):
    token = forge(claims_for(user, sub=sub))

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


def test_me_for_a_deleted_user_is_401_invalid_token(anonymous_client, db, user):
    token = token_for(user)
    db.execute("DELETE FROM users WHERE id = %s", (user["id"],))

    assert_invalid_token(me(anonymous_client, f"Bearer {token}"))


def test_the_role_comes_from_the_database_not_the_token(anonymous_client, user):
    # Even a validly signed token that says "admin" acts with the user's stored role.
    token = forge(claims_for(user, role="admin"))

    shown = me(anonymous_client, f"Bearer {token}")
    create_room = anonymous_client.post(
        "/api/v1/rooms",
        json={"name": "Hall", "capacity": 10},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert shown.get_json()["role"] == "student"
    assert_problem(create_room, 403)


def test_verification_shows_at_once_on_an_existing_token(anonymous_client, db, make_user):
    account = make_user("student", verified=False)
    token = token_for(account)
    db.execute("UPDATE users SET is_verified = true WHERE id = %s", (account["id"],))

    assert me(anonymous_client, f"Bearer {token}").get_json()["is_verified"] is True


# --- a token presented on a public route --------------------------------------------------

PUBLIC_READS = ["/api/v1/courses", "/api/v1/instructors", "/api/v1/rooms", "/api/v1/sections"]


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_a_garbage_token_on_a_public_read_is_401_invalid_token(anonymous_client, path):
    response = anonymous_client.get(path, headers={"Authorization": "Bearer garbage"})

    assert_invalid_token(response)


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_an_expired_token_on_a_public_read_is_401_invalid_token(anonymous_client, user, path):
    expired = token_for(user, lifetime=timedelta(seconds=-1))

    response = anonymous_client.get(path, headers={"Authorization": f"Bearer {expired}"})

    assert_invalid_token(response)


def test_a_forged_token_on_a_public_read_is_401_invalid_token(anonymous_client, user):
    forged = forge(claims_for(user), key=OTHER_KEY)

    response = anonymous_client.get(PUBLIC_READS[0], headers={"Authorization": f"Bearer {forged}"})

    assert_invalid_token(response)


def test_a_valid_token_or_none_on_a_public_read_is_200(anonymous_client, user):
    with_token = anonymous_client.get(
        PUBLIC_READS[0], headers={"Authorization": f"Bearer {token_for(user)}"}
    )
    without = anonymous_client.get(PUBLIC_READS[0])

    assert with_token.status_code == without.status_code == 200
    assert with_token.get_json() == without.get_json()


# --- POST /auth/refresh -------------------------------------------------------------------


def test_refresh_returns_a_new_token_pair(anonymous_client, user):
    first = log_in(anonymous_client, "ada@example.edu")

    response = refresh(anonymous_client, first["refresh_token"])

    assert response.status_code == 200
    second = response.get_json()
    assert set(second) == TOKEN_KEYS
    assert second["token_type"] == "Bearer"
    assert second["expires_in"] == 15 * 60
    assert second["refresh_token"] != first["refresh_token"]
    assert me(anonymous_client, f"Bearer {second['access_token']}").get_json() == user
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_a_refreshed_access_token_names_the_same_user_and_role(anonymous_client, user):
    first = log_in(anonymous_client, "ada@example.edu")

    second = refresh(anonymous_client, first["refresh_token"]).get_json()

    claims = jwt.decode(second["access_token"], TEST_SECRET_KEY, algorithms=["HS256"])
    assert (claims["sub"], claims["role"]) == (str(user["id"]), "student")


def test_a_refresh_token_works_once_the_old_one_is_then_refused(anonymous_client, user):
    first = log_in(anonymous_client, "ada@example.edu")
    refresh(anonymous_client, first["refresh_token"])

    assert_invalid_token(refresh(anonymous_client, first["refresh_token"]))


def test_rotation_keeps_every_token_in_the_login_family(anonymous_client, db, user):
    token = log_in(anonymous_client, "ada@example.edu")["refresh_token"]
    for _ in range(3):
        response = refresh(anonymous_client, token)
        assert response.status_code == 200
        token = response.get_json()["refresh_token"]

    rows = token_rows(db)
    assert len(rows) == 4
    assert len({row["family_id"] for row in rows}) == 1
    assert [row["used_at"] is not None for row in rows] == [True, True, True, False]
    assert all(row["revoked_at"] is None for row in rows)


def test_reusing_a_used_refresh_token_revokes_the_whole_family(anonymous_client, db, user):
    first = log_in(anonymous_client, "ada@example.edu")
    second = refresh(anonymous_client, first["refresh_token"]).get_json()

    reuse = refresh(anonymous_client, first["refresh_token"])
    newest = refresh(anonymous_client, second["refresh_token"])

    assert_invalid_token(reuse)
    assert_invalid_token(newest)
    assert all(row["revoked_at"] is not None for row in token_rows(db))


def test_reuse_deep_in_a_chain_revokes_its_newest_token(anonymous_client, user):
    first = log_in(anonymous_client, "ada@example.edu")["refresh_token"]
    second = refresh(anonymous_client, first).get_json()["refresh_token"]
    third = refresh(anonymous_client, second).get_json()["refresh_token"]

    assert_invalid_token(refresh(anonymous_client, second))
    assert_invalid_token(refresh(anonymous_client, third))


def test_reuse_revokes_only_its_own_family(anonymous_client, user):
    stolen = log_in(anonymous_client, "ada@example.edu")
    other_session = log_in(anonymous_client, "ada@example.edu")
    refresh(anonymous_client, stolen["refresh_token"])

    refresh(anonymous_client, stolen["refresh_token"])

    assert refresh(anonymous_client, other_session["refresh_token"]).status_code == 200


def test_an_expired_refresh_token_is_refused(anonymous_client, db, user):
    tokens = log_in(anonymous_client, "ada@example.edu")
    db.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")

    assert_invalid_token(refresh(anonymous_client, tokens["refresh_token"]))


@pytest.mark.parametrize(
    "token",
    [pytest.param("x" * 43, id="unknown"), pytest.param("nope", id="short")],
)
def test_an_unknown_refresh_token_is_refused(anonymous_client, db, user, token):
    log_in(anonymous_client, "ada@example.edu")
    before = token_rows(db)

    assert_invalid_token(refresh(anonymous_client, token))
    assert token_rows(db) == before


def test_an_access_token_is_not_a_refresh_token(anonymous_client, user):
    tokens = log_in(anonymous_client, "ada@example.edu")

    assert len(tokens["access_token"]) <= 200  # else it would be refused as too long (422)

    assert_invalid_token(refresh(anonymous_client, tokens["access_token"]))


def test_refresh_tokens_die_with_their_user(anonymous_client, db, user):
    tokens = log_in(anonymous_client, "ada@example.edu")
    db.execute("DELETE FROM users WHERE id = %s", (user["id"],))

    assert_invalid_token(refresh(anonymous_client, tokens["refresh_token"]))


def test_refresh_tokens_live_14_days(anonymous_client, db, user):
    log_in(anonymous_client, "ada@example.edu")

    row = token_rows(db)[0]
    assert row["expires_at"] - row["created_at"] == timedelta(days=14)
    assert row["user_id"] == user["id"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"refresh_token": 42}, id="number"),
        pytest.param({"refresh_token": ""}, id="empty"),
        pytest.param({"refresh_token": "x" * 201}, id="too-long"),
        pytest.param({"refresh_token": "abc", "user_id": 1}, id="unknown-field"),
    ],
)
@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
def test_refresh_and_logout_validate_the_body_with_422(anonymous_client, path, body):
    problem = assert_problem(anonymous_client.post(path, json=body), 422)

    assert set(problem["errors"]) <= {"refresh_token", "user_id"}


@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
def test_refresh_and_logout_refuse_a_non_json_body_with_415(anonymous_client, path):
    assert_problem(anonymous_client.post(path, data="refresh_token=abc"), 415)


# --- stored hashed ------------------------------------------------------------------------


def test_refresh_tokens_are_stored_only_as_sha256_hashes(anonymous_client, db, user):
    issued = [log_in(anonymous_client, "ada@example.edu")["refresh_token"]]
    issued.append(refresh(anonymous_client, issued[0]).get_json()["refresh_token"])

    stored = {row["token_hash"] for row in token_rows(db)}
    assert stored == {hashlib.sha256(token.encode()).hexdigest() for token in issued}
    for token in issued:
        plaintext = db.execute(
            "SELECT count(*) AS n FROM refresh_tokens AS t WHERE strpos(t::text, %s) > 0",
            (token,),
        ).fetchone()["n"]
        assert plaintext == 0


# --- POST /auth/logout --------------------------------------------------------------------


def test_logout_is_204_and_the_refresh_token_no_longer_works(anonymous_client, user):
    tokens = log_in(anonymous_client, "ada@example.edu")

    response = logout(anonymous_client, tokens["refresh_token"])

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_invalid_token(refresh(anonymous_client, tokens["refresh_token"]))


def test_logout_with_an_older_token_of_the_family_revokes_the_newest(anonymous_client, user):
    first = log_in(anonymous_client, "ada@example.edu")["refresh_token"]
    newest = refresh(anonymous_client, first).get_json()["refresh_token"]

    assert logout(anonymous_client, first).status_code == 204
    assert_invalid_token(refresh(anonymous_client, newest))


def test_logout_revokes_every_token_of_the_family(anonymous_client, db, user):
    first = log_in(anonymous_client, "ada@example.edu")["refresh_token"]
    newest = refresh(anonymous_client, first).get_json()["refresh_token"]

    logout(anonymous_client, newest)

    assert all(row["revoked_at"] is not None for row in token_rows(db))


def test_logout_leaves_other_sessions_alone(anonymous_client, user):
    phone = log_in(anonymous_client, "ada@example.edu")
    laptop = log_in(anonymous_client, "ada@example.edu")

    logout(anonymous_client, phone["refresh_token"])

    assert refresh(anonymous_client, laptop["refresh_token"]).status_code == 200


def test_logout_with_an_unknown_token_is_204_and_changes_nothing(anonymous_client, db, user):
    log_in(anonymous_client, "ada@example.edu")
    before = token_rows(db)

    response = logout(anonymous_client, "x" * 43)

    assert response.status_code == 204
    assert token_rows(db) == before


def test_logout_twice_is_204_both_times(anonymous_client, user):
    tokens = log_in(anonymous_client, "ada@example.edu")

    assert logout(anonymous_client, tokens["refresh_token"]).status_code == 204
    assert logout(anonymous_client, tokens["refresh_token"]).status_code == 204
