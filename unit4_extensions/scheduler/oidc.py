"""External sign-in (lesson 4.6): the configured OpenID Connect issuers, and the checks a token
that claims one of them must pass, with that issuer's own published keys (`scheduler.jwks`).
Framework-free, like `security.py`: the Flask edge (`scheduler.auth`) decides what a refusal
answers.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from scheduler.jwks import KEY_TYPES, KeyCache, KeySettings, check_url, fetch_json

AUDIENCE_CLAIMS = ("aud", "client_id")  # client_id: Amazon Cognito's access tokens
ISSUER_FIELDS = {"issuer", "audience", "algorithms", "audience_claim"}


class ExternalTokenInvalid(Exception):
    """A token that claims a configured issuer but fails a check: forged, expired, not for us."""


# --8<-- [start:issuer]
@dataclass(frozen=True)
class Issuer:
    """One trusted OpenID Connect issuer: its exact `iss`, the audience its tokens must name
    (in `audience_claim`), and the signature algorithms it is pinned to."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    audience_claim: str = "aud"
    # --8<-- [end:issuer]


# --8<-- [start:parse-issuers]
def parse_issuers(raw: str) -> tuple[Issuer, ...]:
    """Read OIDC_ISSUERS, a JSON list of {issuer, audience, algorithms, audience_claim?};
    raise ValueError saying what is wrong with the first bad entry."""
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError("must be a JSON list of issuer objects") from None
    if not isinstance(entries, list):
        raise ValueError("must be a JSON list of issuer objects")
    issuers = tuple(parse_issuer(f"entry {index}", entry) for index, entry in enumerate(entries))
    if len({issuer.issuer for issuer in issuers}) < len(issuers):
        raise ValueError("names the same issuer twice")
    return issuers


def parse_issuer(where: str, entry: object) -> Issuer:
    """Read one issuer of OIDC_ISSUERS; `where` names it in a ValueError's message."""
    if not isinstance(entry, dict) or not {"issuer", "audience", "algorithms"} <= set(entry):
        raise ValueError(f"{where} must be an object with issuer, audience and algorithms")
    if unknown := set(entry) - ISSUER_FIELDS:
        raise ValueError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    issuer, audience, algorithms = entry["issuer"], entry["audience"], entry["algorithms"]
    audience_claim = entry.get("audience_claim", "aud")
    if not isinstance(issuer, str):
        raise ValueError(f"{where}: issuer must be a URL")
    check_url(issuer, f"{where}: issuer")
    if not isinstance(audience, str) or not audience:
        raise ValueError(f"{where}: audience must be a non-empty string")
    if (
        not isinstance(algorithms, list)
        or not algorithms
        or not all(isinstance(name, str) and name in KEY_TYPES for name in algorithms)
    ):
        choices = ", ".join(KEY_TYPES)
        raise ValueError(f"{where}: algorithms must be a non-empty list of {choices}")
    if audience_claim not in AUDIENCE_CLAIMS:
        choices = ", ".join(AUDIENCE_CLAIMS)
        raise ValueError(f"{where}: audience_claim must be one of {choices}")
    return Issuer(issuer, audience, tuple(algorithms), audience_claim)
    # --8<-- [end:parse-issuers]


def issuers_setting(raw: str) -> str:
    """The settings table's parser for OIDC_ISSUERS: check it, keep its text (the app reads it
    into issuers as it starts)."""
    parse_issuers(raw)
    return raw


@dataclass(frozen=True)
class ExternalIdentity:
    """Who an issuer says the caller is: the only claims we take from its token."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class Verifier:
    """Checks tokens against every configured issuer, each with its own key cache."""

    def __init__(
        self,
        issuers: tuple[Issuer, ...],
        settings: KeySettings,
        fetch: Callable[..., dict] = fetch_json,
    ):
        """One key cache per issuer, empty until a token needs it."""
        self.settings = settings
        self.issuers = {issuer.issuer: issuer for issuer in issuers}
        self.caches = {
            issuer.issuer: KeyCache(issuer.issuer, settings, fetch) for issuer in issuers
        }

    # --8<-- [start:claims-issuer]
    def claims_configured_issuer(self, token: str) -> bool:
        """Whether the token's (unverified) `iss` is one of our issuers: then it is checked
        here, and only here; our own tokens carry no `iss`."""
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return False
        return isinstance(issuer, str) and issuer in self.issuers
        # --8<-- [end:claims-issuer]

    # --8<-- [start:verify]
    def verify(self, token: str, now: datetime) -> ExternalIdentity:
        """Check an external token (signature with a pinned algorithm and the issuer's key,
        `iss`, audience, `exp`, `nbf`, `iat`) and return who it names; raise
        ExternalTokenInvalid, or IssuerUnavailable when its keys cannot be had."""
        try:
            header = jwt.get_unverified_header(token)
            issuer_url = jwt.decode(token, options={"verify_signature": False})["iss"]
        except (jwt.PyJWTError, KeyError):
            raise ExternalTokenInvalid("The token is malformed.") from None
        issuer = self.issuers[issuer_url]
        algorithm = header.get("alg")
        if algorithm not in issuer.algorithms:
            raise ExternalTokenInvalid(f"The algorithm {algorithm!r} is not accepted.")
        kid = header.get("kid")
        key = self.caches[issuer_url].key_for(kid if isinstance(kid, str) else None, algorithm, now)
        if key is None:
            raise ExternalTokenInvalid("The token was not signed with any of the issuer's keys.")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                issuer=issuer.issuer,
                options={
                    "require": ["iss", "sub", "exp", "iat"],
                    "verify_aud": False,  # checked below, in the claim this issuer uses
                    "verify_exp": False,  # the times are checked below, on the app's clock
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            raise ExternalTokenInvalid(f"The token is invalid: {error}") from None
        check_audience(claims, issuer)
        check_times(claims, now, self.settings.leeway)
        return identity_in(claims, issuer)
        # --8<-- [end:verify]


# --8<-- [start:checks]
def check_audience(claims: dict, issuer: Issuer) -> None:
    """The token must be meant for us: its audience claim is (or lists) our audience."""
    audience = claims.get(issuer.audience_claim)
    audiences = audience if isinstance(audience, list) else [audience]
    if issuer.audience not in audiences:
        raise ExternalTokenInvalid("The token is meant for another audience.")


def check_times(claims: dict, now: datetime, leeway: timedelta) -> None:
    """Expired, not yet valid or issued in the future, give or take the leeway for clocks
    that disagree a little."""
    times = {name: claims.get(name) for name in ("exp", "nbf", "iat")}
    if not all(
        value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        for value in times.values()
    ):
        raise ExternalTokenInvalid("The exp, nbf and iat claims must be numbers.")
    earliest, latest = (now - leeway).timestamp(), (now + leeway).timestamp()
    if times["exp"] <= earliest:
        raise ExternalTokenInvalid("The token has expired.")
    if times["nbf"] is not None and times["nbf"] > latest:
        raise ExternalTokenInvalid("The token is not valid yet.")
    if times["iat"] > latest:
        raise ExternalTokenInvalid("The token was issued in the future.")
        # --8<-- [end:checks]


def identity_in(claims: dict, issuer: Issuer) -> ExternalIdentity:
    """Who the claims name. `email_verified` counts only when it says true (Cognito has sent
    it as the string "true"); any role or group claim is ignored: roles are ours."""
    subject, email, name = claims["sub"], claims.get("email"), claims.get("name")
    if not isinstance(subject, str) or not subject:
        raise ExternalTokenInvalid("The token's sub must be a non-empty string.")
    return ExternalIdentity(
        issuer=issuer.issuer,
        subject=subject,
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") in (True, "true"),
        name=name if isinstance(name, str) and name.strip() else None,
    )
