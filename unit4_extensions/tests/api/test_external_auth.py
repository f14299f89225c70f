"""External sign-in (lesson 4.6): tokens of a configured OpenID Connect issuer are accepted
wherever our own are. The identity cases run against a real provider (oidc-provider-mock,
through its authorization-code flow); the cases an honest provider never issues (rotated,
unknown or wrong keys, bad claims, forged algorithms) are signed with keys made here and
served by a `KeyServer`, whose fetch counts show the key cache at work."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from manual_clock import ManualClock
from oidc_servers import (
    CLIENT_ID,
    KeyServer,
    claims_at,
    ec_key,
    id_token_from,
    mock_provider,
    public_jwk,
    rsa_key,
    signed,
)
from problems import assert_problem
from settings import TEST_PASSWORD, token_for

from scheduler_common.db import close_pool

ME = "/api/v1/auth/me"
AUDIENCE = "https://scheduler.example/api"
INTERVAL = 60  # OIDC_JWKS_MIN_REFETCH_INTERVAL in these tests


@pytest.fixture
def oidc_app(app_factory, database_url):
    """Return an app bound to this test's database that trusts the given issuers."""
    apps = []

    def make(issuers: list[dict], **settings):
        app = app_factory(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "OIDC_ISSUERS": json.dumps(issuers),
                "OIDC_JWKS_MIN_REFETCH_INTERVAL": INTERVAL,
                **settings,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_pool(app)


def me(app, token: str):
    """GET /auth/me with the token."""
    return app.test_client().get(ME, headers={"Authorization": f"Bearer {token}"})


# --- A real provider: identity and accounts ---------------------------------------------------


@pytest.fixture
def provider():
    """oidc-provider-mock, running on this machine; its issuer URL."""
    with mock_provider() as issuer:
        yield issuer


@pytest.fixture
def provider_app(oidc_app, provider):
    """An app that trusts the mock provider's ID tokens."""
    return oidc_app([{"issuer": provider, "audience": CLIENT_ID, "algorithms": ["RS256"]}])


def ada(provider: str, verified: bool = True, **claims) -> str:
    """An ID token for Ada from the mock provider."""
    claims = {"email": "ada@example.edu", "email_verified": verified, "name": "Ada L", **claims}
    return id_token_from(provider, "ada-at-provider", claims)


# --8<-- [start:first-sign-in-test]
def test_a_first_sign_in_makes_a_verified_student_account(provider_app, provider, db):
    response = me(provider_app, ada(provider))

    assert response.status_code == 200
    user = response.get_json()
    assert user | {"id": None, "student_id": None} == {
        "id": None,
        "email": "ada@example.edu",
        "role": "student",
        "is_verified": True,
        "student_id": None,
        "instructor_id": None,
    }
    student = db.execute("SELECT * FROM students WHERE id = %s", (user["student_id"],)).fetchone()
    assert (student["full_name"], student["email"]) == ("Ada L", "ada@example.edu")
    link = db.execute("SELECT issuer, subject, user_id FROM external_identities").fetchall()
    assert link == [{"issuer": provider, "subject": "ada-at-provider", "user_id": user["id"]}]
    # --8<-- [end:first-sign-in-test]


def test_a_second_sign_in_is_the_same_account(provider_app, provider, db):
    first = me(provider_app, ada(provider)).get_json()
    second = me(provider_app, ada(provider)).get_json()

    assert second == first
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1


def test_an_email_the_provider_did_not_verify_makes_an_unverified_account(provider_app, provider):
    response = me(provider_app, ada(provider, verified=False))

    assert response.status_code == 200
    assert response.get_json()["is_verified"] is False


# --8<-- [start:roles-test]
def test_the_role_comes_from_our_database_never_from_the_token(provider_app, provider):
    token = ada(provider, role="admin", roles=["admin"], groups=["admin"])

    assert me(provider_app, token).get_json()["role"] == "student"
    created = provider_app.test_client().post(
        "/api/v1/courses",
        json={"code": "CS999", "title": "Forged", "credits": 3},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_problem(created, 403)
    # --8<-- [end:roles-test]


# --8<-- [start:linking-tests]
def test_a_verified_email_links_to_the_existing_verified_account(provider_app, provider, make_user):
    instructor = make_user("instructor", email="ada@example.edu")

    response = me(provider_app, ada(provider))

    assert response.status_code == 200
    assert response.get_json() == instructor  # the same account, with its own role


def test_an_unverified_email_never_takes_over_an_existing_account(
    provider_app, provider, make_user, db
):
    make_user("admin", email="ada@example.edu")

    response = me(provider_app, ada(provider, verified=False))

    assert "already exists" in assert_problem(response, 401)["detail"]
    assert db.execute("SELECT count(*) AS n FROM external_identities").fetchone()["n"] == 0


def test_an_account_nobody_verified_here_is_not_linked_either(
    provider_app, provider, make_user, db
):
    # Registered by someone who typed Ada's address before she ever came: linking it would let
    # them in with the password they chose.
    make_user("student", email="ada@example.edu", verified=False)

    assert_problem(me(provider_app, ada(provider)), 401)
    assert db.execute("SELECT count(*) AS n FROM external_identities").fetchone()["n"] == 0
    # --8<-- [end:linking-tests]


def test_an_account_made_by_a_sign_in_has_no_password_that_logs_in(provider_app, provider):
    me(provider_app, ada(provider))

    for password in (TEST_PASSWORD, "", "ada-at-provider"):
        response = provider_app.test_client().post(
            "/api/v1/auth/login", json={"email": "ada@example.edu", "password": password or "x"}
        )
        assert_problem(response, 401)


def test_an_external_token_is_accepted_wherever_ours_is(provider_app, provider):
    token = ada(provider)
    student_id = me(provider_app, token).get_json()["student_id"]

    schedule = provider_app.test_client().get(
        f"/api/v1/students/{student_id}/schedule", headers={"Authorization": f"Bearer {token}"}
    )

    assert schedule.status_code == 200


def test_our_own_tokens_still_work_beside_external_ones(provider_app, make_user):
    user = make_user("student")

    assert me(provider_app, token_for(user)).get_json() == user


# --- Keys made here: the key cache and every check --------------------------------------------


@pytest.fixture
def keys():
    """A key server with one RSA key, "key-1", and the private key that signs with it."""
    with KeyServer() as server:
        private = rsa_key()
        server.keys = [public_jwk(private, "key-1")]
        yield server, private


@pytest.fixture
def clock():
    """The app's clock, which the tokens' times are set from."""
    return ManualClock()


@pytest.fixture
def keys_app(oidc_app, keys, clock):
    """An app that trusts the key server's issuer, on the manual clock."""
    server, _ = keys
    return oidc_app(
        [{"issuer": server.issuer, "audience": AUDIENCE, "algorithms": ["RS256"]}], CLOCK=clock
    )


def token(keys, clock, kid="key-1", private=None, algorithm="RS256", **claims) -> str:
    """A token from the key server's issuer, signed by its key unless another is given."""
    server, own_private = keys
    return signed(
        private or own_private,
        kid,
        claims_at(clock(), server.issuer, AUDIENCE, **claims),
        algorithm,
    )


def test_a_token_signed_with_the_issuers_key_is_accepted(keys_app, keys, clock):
    response = me(keys_app, token(keys, clock))

    assert response.status_code == 200
    assert keys[0].hits == {"discovery": 1, "jwks": 1}


def test_keys_are_fetched_once_and_then_cached(keys_app, keys, clock):
    for _ in range(3):
        assert me(keys_app, token(keys, clock)).status_code == 200

    assert keys[0].hits["jwks"] == 1


# --8<-- [start:rotation-test]
def test_a_rotated_key_is_fetched_once_and_accepted(keys_app, keys, clock):
    server, _ = keys
    assert me(keys_app, token(keys, clock)).status_code == 200
    rotated = rsa_key()
    server.keys = [public_jwk(rotated, "key-2")]  # the issuer signs with a new key from now on
    clock.advance(timedelta(seconds=INTERVAL))

    response = me(keys_app, token(keys, clock, kid="key-2", private=rotated))

    assert response.status_code == 200
    assert server.hits["jwks"] == 2


def test_a_flood_of_unknown_kids_fetches_the_keys_at_most_once_per_interval(keys_app, keys, clock):
    server, _ = keys
    assert me(keys_app, token(keys, clock)).status_code == 200

    for number in range(20):
        assert_problem(me(keys_app, token(keys, clock, kid=f"forged-{number}")), 401)
    assert server.hits["jwks"] == 1  # the first fetch was less than an interval ago

    clock.advance(timedelta(seconds=INTERVAL))
    for number in range(20):
        assert_problem(me(keys_app, token(keys, clock, kid=f"forged-{number}")), 401)
    assert server.hits["jwks"] == 2  # one more fetch, however many unknown kids
    # --8<-- [end:rotation-test]


def test_old_keys_are_fetched_again_after_the_cache_lifetime(oidc_app, keys, clock):
    server, _ = keys
    app = oidc_app(
        [{"issuer": server.issuer, "audience": AUDIENCE, "algorithms": ["RS256"]}],
        CLOCK=clock,
        OIDC_JWKS_CACHE_TTL=600,
    )
    assert me(app, token(keys, clock)).status_code == 200
    clock.advance(timedelta(seconds=599))
    assert me(app, token(keys, clock)).status_code == 200
    assert server.hits["jwks"] == 1

    clock.advance(timedelta(seconds=1))
    assert me(app, token(keys, clock)).status_code == 200
    assert server.hits["jwks"] == 2


def test_keys_we_have_keep_working_while_the_issuer_is_down(oidc_app, keys, clock):
    server, _ = keys
    app = oidc_app(
        [{"issuer": server.issuer, "audience": AUDIENCE, "algorithms": ["RS256"]}],
        CLOCK=clock,
        OIDC_JWKS_CACHE_TTL=600,
    )
    assert me(app, token(keys, clock)).status_code == 200
    server.failing = True
    clock.advance(timedelta(seconds=601))

    assert me(app, token(keys, clock)).status_code == 200
    assert server.hits["discovery"] == 2  # it tried


# --8<-- [start:unavailable-test]
def test_an_issuer_whose_keys_cannot_be_fetched_is_a_503_not_a_401(keys_app, keys, clock, db):
    keys[0].failing = True

    response = me(keys_app, token(keys, clock))

    body = assert_problem(response, 503)
    assert "identity provider" in body["detail"]
    assert response.headers["Retry-After"] == str(INTERVAL)
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0
    # --8<-- [end:unavailable-test]


def test_an_issuer_that_is_not_there_is_a_503(oidc_app, keys, clock):
    gone = "http://127.0.0.1:9"  # the discard port: nothing listens on it here
    app = oidc_app([{"issuer": gone, "audience": AUDIENCE, "algorithms": ["RS256"]}], CLOCK=clock)

    response = me(app, signed(keys[1], "key-1", claims_at(clock(), gone, AUDIENCE)))

    assert_problem(response, 503)


def test_a_discovery_document_naming_another_issuer_is_not_trusted(keys_app, keys, clock):
    keys[0].announced_issuer = "https://impostor.example"

    assert_problem(me(keys_app, token(keys, clock)), 503)
    assert keys[0].hits["jwks"] == 0


def test_keys_are_never_fetched_over_plain_http_from_elsewhere(keys_app, keys, clock):
    # 127.0.0.2 is this machine too, but not by a name the http exception accepts: it stands
    # for any other host that would serve keys over plain HTTP.
    with KeyServer(host="127.0.0.2") as elsewhere:
        elsewhere.keys = keys[0].keys
        keys[0].announced_jwks_uri = f"{elsewhere.issuer}/jwks"

        assert_problem(me(keys_app, token(keys, clock)), 503)
        assert elsewhere.hits["jwks"] == 0


REFUSED = {
    "expired beyond the leeway": {"exp": -31},
    "not valid for a minute yet": {"nbf": 61},
    "issued a minute in the future": {"iat": 61},
    "for another audience": {"aud": "https://other.example/api"},
    "with no audience": {"aud": None},
    "with no subject": {"sub": None},
    "with no expiry": {"exp": None},
    "with an empty subject": {"sub": ""},
}


@pytest.mark.parametrize("changes", REFUSED.values(), ids=REFUSED)
def test_a_token_failing_a_check_is_a_401(keys_app, keys, clock, changes, db):
    now = int(clock().timestamp())
    times = {"exp", "nbf", "iat"}
    changes = {
        name: (now + value if name in times and value is not None else value)
        for name, value in changes.items()
    }

    response = me(keys_app, token(keys, clock, **changes))

    assert assert_problem(response, 401)["title"] == "Unauthorized"
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


ACCEPTED = {
    "expired within the leeway": {"exp": -29},
    "valid within the leeway": {"nbf": 29},
    "issued within the leeway": {"iat": 29},
    "one of several audiences": {"aud": ["https://other.example/api", AUDIENCE]},
}


@pytest.mark.parametrize("changes", ACCEPTED.values(), ids=ACCEPTED)
def test_small_clock_differences_and_audience_lists_are_accepted(keys_app, keys, clock, changes):
    now = int(clock().timestamp())
    changes = {
        name: now + value if isinstance(value, int) else value for name, value in changes.items()
    }

    assert me(keys_app, token(keys, clock, **changes)).status_code == 200


def test_a_token_of_an_issuer_we_do_not_trust_is_a_401(keys_app, keys, clock):
    response = me(keys_app, token(keys, clock, iss="https://elsewhere.example"))

    assert_problem(response, 401)
    assert keys[0].hits["jwks"] == 0  # never our issuer's business


def test_a_token_signed_by_another_key_with_a_known_kid_is_a_401(keys_app, keys, clock):
    assert_problem(me(keys_app, token(keys, clock, private=rsa_key())), 401)


# --8<-- [start:algorithm-tests]
def test_hs256_signed_with_the_issuers_public_key_is_a_401(keys_app, keys, clock):
    server, private = keys
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = claims_at(clock(), server.issuer, AUDIENCE)
    # PyJWT refuses to sign with a PEM as an HMAC secret; an attacker's library does not.
    forged = forge_hs256(claims, public_pem, kid="key-1")

    assert_problem(me(keys_app, forged), 401)


def test_alg_none_is_a_401(keys_app, keys, clock):
    server, _ = keys
    unsigned = jwt.encode(
        claims_at(clock(), server.issuer, AUDIENCE),
        None,
        algorithm="none",
        headers={"kid": "key-1"},
    )

    assert_problem(me(keys_app, unsigned), 401)
    # --8<-- [end:algorithm-tests]


def test_an_es256_issuer_accepts_ec_keys_and_refuses_rs256(oidc_app, clock):
    with KeyServer() as server:
        ec_private, rsa_private = ec_key(), rsa_key()
        server.keys = [public_jwk(ec_private, "ec-1"), public_jwk(rsa_private, "rsa-1")]
        app = oidc_app(
            [{"issuer": server.issuer, "audience": AUDIENCE, "algorithms": ["ES256"]}],
            CLOCK=clock,
        )
        claims = claims_at(clock(), server.issuer, AUDIENCE)

        assert me(app, signed(ec_private, "ec-1", claims, "ES256")).status_code == 200
        assert_problem(me(app, signed(rsa_private, "rsa-1", claims, "RS256")), 401)


def test_a_header_alg_never_picks_the_key_type(oidc_app, clock):
    with KeyServer() as server:
        ec_private, rsa_private = ec_key(), rsa_key()
        server.keys = [public_jwk(ec_private, "ec-1"), public_jwk(rsa_private, "rsa-1")]
        app = oidc_app(
            [{"issuer": server.issuer, "audience": AUDIENCE, "algorithms": ["ES256", "RS256"]}],
            CLOCK=clock,
        )
        claims = claims_at(clock(), server.issuer, AUDIENCE)

        # An RS256 signature presented as the EC key's: the kid names a key of the wrong type.
        assert_problem(me(app, signed(rsa_private, "ec-1", claims, "RS256")), 401)


# --8<-- [start:cognito-test]
def test_a_cognito_access_token_names_its_audience_in_client_id(oidc_app, keys, clock, make_user):
    server, _ = keys
    make_user("student", email="ada@example.edu")
    app = oidc_app(
        [
            {
                "issuer": server.issuer,
                "audience": "app-client-1",
                "algorithms": ["RS256"],
                "audience_claim": "client_id",
            }
        ],
        CLOCK=clock,
    )
    access = claims_at(clock(), server.issuer, None, client_id="app-client-1", token_use="access")

    assert me(app, signed(keys[1], "key-1", access)).status_code == 200
    id_token = claims_at(clock(), server.issuer, "app-client-1")  # aud, no client_id
    assert_problem(me(app, signed(keys[1], "key-1", id_token)), 401)
    # --8<-- [end:cognito-test]


def test_a_first_sign_in_without_an_email_is_a_401(keys_app, keys, clock, db):
    response = me(keys_app, token(keys, clock, email=None))

    assert "email" in assert_problem(response, 401)["detail"]
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_a_token_without_a_kid_may_use_the_issuers_only_key(keys_app, keys, clock):
    server, _ = keys
    assert me(keys_app, token(keys, clock, kid=None)).status_code == 200

    server.keys = [*server.keys, public_jwk(rsa_key(), "key-2")]
    clock.advance(timedelta(seconds=INTERVAL))
    me(keys_app, token(keys, clock, kid="unknown"))  # makes the cache fetch both keys

    assert_problem(me(keys_app, token(keys, clock, kid=None)), 401)


def forge_hs256(claims: dict, secret: bytes, kid: str) -> str:
    """An HS256 token keyed with `secret`, built by hand as a forger would."""
    header = encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = encode(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{encode(signature)}"


def encode(data: bytes) -> str:
    """Base64url without padding, as JWTs are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
