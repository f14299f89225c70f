"""External sign-in (lesson 4.6): tokens from a configured OpenID Connect issuer, checked
here with the issuer's own published keys. Framework-free, like `security.py`: the Flask edge
(`scheduler.auth`) decides what a refusal answers.

Each configured issuer has its keys cached: they come from its discovery document and the
JWKS it names, are fetched again when the cache is old or a token names a key we have not seen
(the issuer rotated its keys), and at most once per interval however many such tokens arrive.
"""

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import jwt

logger = logging.getLogger(__name__)

# --8<-- [start:algorithms]
# The algorithms an issuer may be configured with, and the key type each one needs. Only
# public-key signatures: an HS* token is signed with a shared secret, which an issuer we do not
# run never shares with us (and "HS256 keyed with the issuer's public key" is the classic
# algorithm-confusion forgery); "none" is no signature at all.
KEY_TYPES = {"RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "ES256": "EC", "ES384": "EC"}
# --8<-- [end:algorithms]
AUDIENCE_CLAIMS = ("aud", "client_id")  # client_id: Amazon Cognito's access tokens
ISSUER_FIELDS = {"issuer", "audience", "algorithms", "audience_claim"}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_DOCUMENT_BYTES = 1024 * 1024  # a discovery document or JWKS is a few kilobytes


class ExternalTokenInvalid(Exception):
    """A token that claims a configured issuer but fails a check: forged, expired, not for us."""


class IssuerUnavailable(Exception):
    """The issuer's discovery document or keys could not be fetched, and none are cached."""


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


def check_url(url: str, what: str) -> None:
    """Refuse (ValueError) a URL that is not https, except http on this machine (tests, dev):
    keys fetched over plain HTTP could be swapped by anyone on the path."""
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" and parts.hostname) and not local:
        raise ValueError(f"{what} {url!r} must be an https:// URL (http only for localhost)")


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


@dataclass(frozen=True)
class KeySettings:
    """How keys are fetched and cached, and how much clock skew token times may have."""

    cache_lifetime: timedelta
    min_refetch_interval: timedelta
    leeway: timedelta
    http_timeout: float  # seconds, for each fetch


@dataclass(frozen=True)
class ExternalIdentity:
    """Who an issuer says the caller is: the only claims we take from its token."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


# --8<-- [start:fetch]
def fetch_json(url: str, timeout: float) -> dict:
    """GET a JSON object (a discovery document or a JWKS), or raise IssuerUnavailable."""
    check_url(url, "URL")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError("the document is too large")
        document = json.loads(body)
    except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
        raise IssuerUnavailable(f"{url}: {error}") from None
    if not isinstance(document, dict):
        raise IssuerUnavailable(f"{url}: not a JSON object")
    return document
    # --8<-- [end:fetch]


class KeyCache:
    """One issuer's signing keys by `kid`, fetched through its discovery document."""

    def __init__(self, issuer: Issuer, settings: KeySettings, fetch: Callable[..., dict]):
        """Start empty: the first token that needs a key fetches them."""
        self.issuer = issuer
        self.settings = settings
        self.fetch = fetch
        self.keys: dict[str, SigningKey] = {}
        self.fetched_at: datetime | None = None  # the last fetch that worked
        self.attempted_at: datetime | None = None  # the last fetch, whether it worked or not
        # One fetch at a time: a burst of tokens with a new kid waits for one fetch, not many.
        self.lock = threading.Lock()

    # --8<-- [start:key-for]
    def key_for(self, kid: str | None, algorithm: str, now: datetime) -> jwt.PyJWK:
        """The key that signed a token, fetching the keys again when they are old or the kid
        is new to us, but never sooner than `min_refetch_interval` after the last fetch."""
        with self.lock:
            old = self.fetched_at is None or now - self.fetched_at >= self.settings.cache_lifetime
            if old and self.may_fetch(now):
                self.refresh(now)
            key = self.find(kid, algorithm)
            if key is None and self.may_fetch(now):
                self.refresh(now)  # a kid we have not seen: the issuer may have rotated its keys
                key = self.find(kid, algorithm)
            if key is None and not self.keys:
                raise IssuerUnavailable(f"no keys for {self.issuer.issuer} yet")
        if key is None:
            raise ExternalTokenInvalid("The token was not signed with any of the issuer's keys.")
        return key
        # --8<-- [end:key-for]

    # --8<-- [start:rate-limit]
    def may_fetch(self, now: datetime) -> bool:
        """Whether enough time has passed since the last fetch: a flood of tokens naming
        unknown keys must not make us hammer the issuer (nor its rate limit lock us out)."""
        interval = self.settings.min_refetch_interval
        return self.attempted_at is None or now - self.attempted_at >= interval
        # --8<-- [end:rate-limit]

    def find(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        """The cached key a token's header names, if its type fits the pinned algorithm (the
        header's `alg` never picks the key type); a token without a kid may only use the
        issuer's one key."""
        if kid is None:
            key = next(iter(self.keys.values())) if len(self.keys) == 1 else None
        else:
            key = self.keys.get(kid)
        if key is None or key.key.key_type != KEY_TYPES[algorithm]:
            return None
        if key.algorithm not in (None, algorithm):  # a key whose JWK pins another algorithm
            return None
        return key.key

    # --8<-- [start:refresh]
    def refresh(self, now: datetime) -> None:
        """Fetch the discovery document and its JWKS, and keep the usable signing keys. A
        failed fetch keeps the keys we had (the issuer being down does not make tokens signed
        by a key we know bad), and raises only when we have none."""
        self.attempted_at = now
        timeout = self.settings.http_timeout
        try:
            discovery = self.fetch(
                self.issuer.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout
            )
            if discovery.get("issuer") != self.issuer.issuer:  # OpenID Connect Discovery §4.3
                raise IssuerUnavailable("the discovery document names another issuer")
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise IssuerUnavailable("the discovery document has no jwks_uri")
            jwks = self.fetch(jwks_uri, timeout)
        except (IssuerUnavailable, ValueError) as error:  # ValueError: a non-https jwks_uri
            logger.warning("Cannot fetch the keys of %s: %s", self.issuer.issuer, error)
            if not self.keys:
                raise IssuerUnavailable(str(error)) from None
            return
        self.keys = signing_keys(jwks)
        self.fetched_at = now
        # --8<-- [end:refresh]


@dataclass(frozen=True)
class SigningKey:
    """A public key from a JWKS, and the algorithm its JWK pins it to (None: not pinned)."""

    key: jwt.PyJWK
    algorithm: str | None


def signing_keys(jwks: dict) -> dict[str, SigningKey]:
    """The JWKS's public signing keys by kid; keys of other types or uses are skipped."""
    keys = {}
    for entry in jwks.get("keys", []) if isinstance(jwks.get("keys"), list) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in set(KEY_TYPES.values()):
            continue  # e.g. "oct": a shared secret has no place in a public key set
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        keys[str(entry.get("kid", ""))] = SigningKey(key, entry.get("alg"))
    return keys


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
        self.caches = {issuer.issuer: KeyCache(issuer, settings, fetch) for issuer in issuers}

    # --8<-- [start:claims-issuer]
    def claims_configured_issuer(self, token: str) -> bool:
        """Whether the token's (unverified) `iss` is one of our issuers: then it is checked
        here, and only here; our own tokens carry no `iss`."""
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return False
        return isinstance(issuer, str) and issuer in self.caches
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
        cache = self.caches[issuer_url]
        issuer = cache.issuer
        algorithm = header.get("alg")
        if algorithm not in issuer.algorithms:
            raise ExternalTokenInvalid(f"The algorithm {algorithm!r} is not accepted.")
        kid = header.get("kid")
        key = cache.key_for(kid if isinstance(kid, str) else None, algorithm, now)
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
