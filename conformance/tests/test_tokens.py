"""The crafted tokens are what they claim to be."""

from scheduler_conformance import tokens

HEADER = {"alg": "HS256", "typ": "JWT"}
CLAIMS = {"sub": "1234567890", "name": "John Doe", "iat": 1516239022}
# The example token of RFC-style HS256 signing (jwt.io's, with the key "your-256-bit-secret").
KNOWN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
    "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def test_signing_matches_a_known_hs256_token():
    """With the right key, sign() makes exactly the token a JWT library makes."""
    assert tokens.sign(HEADER, CLAIMS, "your-256-bit-secret") == KNOWN


def test_a_forged_token_keeps_the_claims_and_changes_the_signature():
    """Plausible: same header and claims; wrong: another signature."""
    forged = tokens.forged(HEADER, CLAIMS)
    assert tokens.parts(forged)[:2] == (HEADER, CLAIMS)
    assert forged.split(".")[2] != KNOWN.split(".")[2]


def test_an_unsigned_token_says_alg_none_and_has_no_signature():
    """The `alg: none` attack."""
    header, claims, signature = tokens.parts(tokens.unsigned(HEADER, CLAIMS))
    assert header["alg"] == "none" and claims == CLAIMS and signature == ""


def test_a_tampered_token_keeps_the_signature_over_other_claims():
    """Claims changed, the original signature kept."""
    tampered = tokens.tampered(KNOWN, {**CLAIMS, "role": "admin"})
    assert tampered.split(".")[2] == KNOWN.split(".")[2]
    assert tokens.parts(tampered)[1]["role"] == "admin"


def test_parts_refuses_what_is_not_a_jwt():
    """Not three parts, or parts that are not JSON."""
    assert tokens.parts("not-a-jwt") is None
    assert tokens.parts("a.b.c") is None
