"""Crafting JWTs for the token attacks: forged, `alg: none`, tampered and expired tokens."""

import base64
import hashlib
import hmac
import json
import secrets

SIGNERS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode base64url with its padding left off."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token: str) -> tuple[dict, dict, str] | None:
    """The header, claims and signature of a JWT, or None when it is not one."""
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    try:
        return json.loads(unb64url(pieces[0])), json.loads(unb64url(pieces[1])), pieces[2]
    except ValueError:
        return None


def compact(value: dict) -> str:
    """A JWT part: compact JSON in base64url."""
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def encode(header: dict, claims: dict) -> str:
    """The signing input of a JWT: header.claims."""
    return f"{compact(header)}.{compact(claims)}"


def sign(header: dict, claims: dict, key: str) -> str:
    """A JWT signed with an HMAC algorithm (the header's, HS256 when it names no HMAC)."""
    header = {**header, "alg": header["alg"] if header.get("alg") in SIGNERS else "HS256"}
    signing_input = encode(header, claims)
    digest = hmac.new(key.encode(), signing_input.encode(), SIGNERS[header["alg"]]).digest()
    return f"{signing_input}.{b64url(digest)}"


def forged(header: dict, claims: dict) -> str:
    """The same claims signed with a key the server has never seen: plausible, and wrong."""
    return sign(header, claims, secrets.token_urlsafe(32))


def unsigned(header: dict, claims: dict) -> str:
    """The same claims with `alg: none` and no signature."""
    return encode({**header, "alg": "none"}, claims) + "."


def tampered(token: str, claims: dict) -> str:
    """The token's own header and signature around changed claims."""
    header, _, signature = token.split(".")
    return f"{header}.{compact(claims)}.{signature}"
