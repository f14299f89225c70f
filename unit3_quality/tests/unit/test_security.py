"""Unit tests of the security primitives: bcrypt hashing, the 8–72 byte password rule (kept by
validation.password, not by the hash), access tokens pinned to HS256 with sub/role/iat/exp
required, and the opaque one-time tokens that are stored only as SHA-256 hashes."""

import hashlib
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt
import pytest
from jwt.utils import base64url_encode
from settings import TEST_SECRET_KEY
from voluptuous import Invalid

from scheduler import validation
from scheduler.security import (
    ALGORITHM,
    HASHING_SLOTS,
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_password,
    hash_token,
    new_opaque_token,
    password_matches,
)

ROUNDS = 4  # the fastest bcrypt cost: these tests check behaviour, not strength
USER = {"id": 42, "role": "student"}
OTHER_KEY = "another-secret-key-that-is-also-32-bytes-long"


def forge(claims: dict, key: str = TEST_SECRET_KEY, algorithm: str = "HS256", **kwargs) -> str:
    """Sign arbitrary claims, as an attacker (or a buggy client) might."""
    return jwt.encode(claims, key, algorithm=algorithm, **kwargs)


def valid_claims(**overrides) -> dict:
    """A complete, currently valid claim set; None in `overrides` removes a claim."""
    now = datetime.now(UTC)
    claims = {"sub": "42", "role": "student", "iat": now, "exp": now + timedelta(minutes=5)}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


# --- password hashing ---------------------------------------------------------------------


def test_hash_password_returns_a_bcrypt_hash_with_the_given_cost():
    hashed = hash_password("correct horse battery", ROUNDS)

    assert re.fullmatch(r"\$2b\$04\$[./A-Za-z0-9]{53}", hashed)


def test_the_stored_hash_verifies_its_password_and_not_a_neighbour():
    hashed = hash_password("correct horse battery", ROUNDS)

    assert bcrypt.checkpw(b"correct horse battery", hashed.encode())
    for neighbour in (b"correct horse batterz", b"correct horse batter", b"correct horse battery "):
        assert not bcrypt.checkpw(neighbour, hashed.encode())


def test_hash_password_salts_every_hash():
    assert hash_password("same password", ROUNDS) != hash_password("same password", ROUNDS)


def test_password_matches_the_password_it_was_hashed_from():
    hashed = hash_password("correct horse battery", ROUNDS)

    assert password_matches("correct horse battery", hashed) is True


@pytest.mark.parametrize(
    "attempt",
    ["correct horse batter", "correct horse battery!", "Correct horse battery", "", " "],
)
def test_password_matches_refuses_any_other_password(attempt):
    hashed = hash_password("correct horse battery", ROUNDS)

    assert password_matches(attempt, hashed) is False


def test_password_matches_handles_multibyte_passwords():
    hashed = hash_password("pässwörd-ünïcode-€", ROUNDS)

    assert password_matches("pässwörd-ünïcode-€", hashed) is True
    assert password_matches("passwored-unicode-E", hashed) is False


def test_a_72_byte_password_is_hashed_in_full():
    password = "x" * 71 + "y"
    hashed = hash_password(password, ROUNDS)

    assert password_matches(password, hashed) is True
    assert password_matches("x" * 72, hashed) is False


def test_a_process_runs_at_most_one_bcrypt_per_core(monkeypatch):
    """Hashing and checking share a process's slots, one per core: four times as many threads
    as slots, all wanting bcrypt at once, never hold more, so a burst of logins cannot crowd
    out every other request."""
    inside, most = 0, 0
    counting = threading.Lock()

    def one_at_a_time(real):
        def counted(*args):
            nonlocal inside, most
            with counting:
                inside += 1
                most = max(most, inside)
            try:
                # Give the other threads time to arrive: without the slot they would be inside.
                time.sleep(0.02)
                return real(*args)
            finally:
                with counting:
                    inside -= 1

        return counted

    stored = hash_password("correct horse", ROUNDS)
    monkeypatch.setattr(bcrypt, "checkpw", one_at_a_time(bcrypt.checkpw))
    monkeypatch.setattr(bcrypt, "hashpw", one_at_a_time(bcrypt.hashpw))
    work = [lambda: password_matches("correct horse", stored)] * (2 * HASHING_SLOTS)
    work += [lambda: hash_password("battery staple", ROUNDS)] * (2 * HASHING_SLOTS)
    threads = [threading.Thread(target=job) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most <= HASHING_SLOTS


def test_hash_password_itself_refuses_more_than_72_bytes():
    # The hash is not where the rule is kept (validation.password is), but it must never
    # silently truncate either.
    with pytest.raises(ValueError, match="longer than 72 bytes"):
        hash_password("x" * 73, ROUNDS)


@pytest.mark.parametrize(("size", "accepted"), [(7, False), (8, True), (72, True), (73, False)])
def test_a_password_is_accepted_from_8_to_72_bytes_and_hashes_in_full(size, accepted):
    password = "p" * (size - 1) + "!"

    if not accepted:
        with pytest.raises(Invalid):
            validation.password(password)
        return
    hashed = hash_password(validation.password(password), ROUNDS)
    assert password_matches(password, hashed)
    assert not password_matches(password[:-1] + "?", hashed)  # the last byte counts too


# --- validation.password: the 8–72 byte rule ----------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "x" * 8,
        "x" * 72,
        "éééé",  # 4 characters, 8 bytes
        "é" * 36,  # 72 bytes
        "€" * 24,  # 3 bytes each: 72 bytes
        "😀" * 18,  # 4 bytes each: 72 bytes
        "        ",  # eight spaces are eight bytes
        "  padded  ",  # kept as given, never stripped
    ],
)
def test_validation_password_accepts_8_to_72_bytes_and_returns_it_unchanged(password):
    assert validation.password(password) == password


@pytest.mark.parametrize(
    ("password", "size"),
    [
        ("", 0),
        ("x" * 7, 7),
        ("ééé", 6),
        ("x" * 73, 73),
        ("é" * 36 + "x", 73),  # 37 characters, 73 bytes
        ("€" * 24 + "x", 73),
        ("😀" * 19, 76),  # 19 characters, far under 72 of them
        ("x" * 1000, 1000),
    ],
)
def test_validation_password_refuses_fewer_than_8_or_more_than_72_bytes(password, size):
    with pytest.raises(Invalid) as raised:
        validation.password(password)

    assert str(size) in str(raised.value)
    assert "8 to 72 bytes" in str(raised.value)


@pytest.mark.parametrize("value", [None, 12345678, ["password"], {"p": "w"}, True, 1.5])
def test_validation_password_refuses_non_strings(value):
    with pytest.raises(Invalid, match="Must be a string"):
        validation.password(value)


# --- access tokens ------------------------------------------------------------------------


def test_create_access_token_signs_sub_role_iat_exp_with_hs256():
    token = create_access_token(USER, TEST_SECRET_KEY, timedelta(minutes=15))

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, TEST_SECRET_KEY, algorithms=["HS256"])
    assert header["alg"] == "HS256" == ALGORITHM
    assert set(claims) == {"sub", "role", "iat", "exp"}
    assert claims["sub"] == "42"
    assert claims["role"] == "student"
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_decode_access_token_returns_the_claims_of_its_own_tokens():
    token = create_access_token(USER, TEST_SECRET_KEY, timedelta(minutes=15))

    claims = decode_access_token(token, TEST_SECRET_KEY)

    assert (claims["sub"], claims["role"]) == ("42", "student")


def test_decode_access_token_refuses_an_expired_token():
    token = create_access_token(USER, TEST_SECRET_KEY, timedelta(seconds=-1))

    with pytest.raises(InvalidToken):
        decode_access_token(token, TEST_SECRET_KEY)


def test_decode_access_token_refuses_a_token_signed_with_another_key():
    token = create_access_token(USER, OTHER_KEY, timedelta(minutes=15))

    with pytest.raises(InvalidToken):
        decode_access_token(token, TEST_SECRET_KEY)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_decode_access_token_refuses_other_algorithms_even_with_the_right_key(algorithm):
    token = forge(valid_claims(), algorithm=algorithm)

    with pytest.raises(InvalidToken):
        decode_access_token(token, TEST_SECRET_KEY)


def test_decode_access_token_refuses_alg_none():
    token = forge(valid_claims(), key=None, algorithm="none")

    with pytest.raises(InvalidToken):
        decode_access_token(token, TEST_SECRET_KEY)


@pytest.mark.parametrize("missing", ["sub", "role", "iat", "exp"])
def test_decode_access_token_requires_every_claim(missing):
    token = forge(valid_claims(**{missing: None}))

    with pytest.raises(InvalidToken, match=missing):
        decode_access_token(token, TEST_SECRET_KEY)


def test_decode_access_token_refuses_an_iat_in_the_future():
    future = datetime.now(UTC) + timedelta(minutes=10)
    token = forge(valid_claims(iat=future, exp=future + timedelta(minutes=15)))

    with pytest.raises(InvalidToken):
        decode_access_token(token, TEST_SECRET_KEY)


def test_decode_access_token_refuses_an_nbf_in_the_future():
    token = forge(valid_claims(nbf=datetime.now(UTC) + timedelta(minutes=10)))

    with pytest.raises(InvalidToken):
        decode_access_token(token, TEST_SECRET_KEY)


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"sub": 42}, id="sub-not-a-string"),
        pytest.param({"iat": "yesterday"}, id="iat-not-a-number"),
        pytest.param({"exp": "tomorrow"}, id="exp-not-a-number"),
    ],
)
def test_decode_access_token_refuses_malformed_claims(claims):
    token = forge(valid_claims(**claims))

    with pytest.raises(InvalidToken):
        decode_access_token(token, TEST_SECRET_KEY)


def test_decode_access_token_refuses_a_tampered_payload():
    token = create_access_token(USER, TEST_SECRET_KEY, timedelta(minutes=15))
    header, _, signature = token.split(".")
    claims = jwt.decode(token, TEST_SECRET_KEY, algorithms=["HS256"])
    admin_payload = base64url_encode(json.dumps({**claims, "role": "admin"}).encode()).decode()

    with pytest.raises(InvalidToken):
        decode_access_token(f"{header}.{admin_payload}.{signature}", TEST_SECRET_KEY)


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "a.b", "....", "Bearer x"])
def test_decode_access_token_refuses_garbage(garbage):
    with pytest.raises(InvalidToken):
        decode_access_token(garbage, TEST_SECRET_KEY)


# --- opaque one-time tokens ---------------------------------------------------------------


def test_new_opaque_token_is_url_safe_and_long_enough_to_be_unguessable():
    token = new_opaque_token()

    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", token)


def test_new_opaque_token_is_different_every_time():
    tokens = {new_opaque_token() for _ in range(100)}

    assert len(tokens) == 100


def test_hash_token_is_the_hex_sha256_of_the_token():
    token = new_opaque_token()

    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_token(token))


def test_hash_token_is_deterministic_and_differs_per_token():
    assert hash_token("abc") == hash_token("abc")
    assert hash_token("abc") != hash_token("abd")
