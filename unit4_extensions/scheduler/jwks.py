"""An OpenID Connect issuer's signing keys (lesson 4.6): found through its discovery document,
fetched from the JWKS it names, and cached. They are fetched again when the cache is old or a
token names a key we have not seen (the issuer rotated its keys), and at most once per interval
however many such tokens arrive.
"""

import json
import logging
import threading
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
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_DOCUMENT_BYTES = 1024 * 1024  # a discovery document or JWKS is a few kilobytes


class IssuerUnavailable(Exception):
    """The issuer's discovery document or keys could not be fetched, and none are cached."""


def check_url(url: str, what: str) -> None:
    """Refuse (ValueError) a URL that is not https, except http on this machine (tests, dev):
    keys fetched over plain HTTP could be swapped by anyone on the path."""
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" and parts.hostname) and not local:
        raise ValueError(f"{what} {url!r} must be an https:// URL (http only for localhost)")


@dataclass(frozen=True)
class KeySettings:
    """How keys are fetched and cached, and how much clock skew token times may have."""

    cache_lifetime: timedelta
    min_refetch_interval: timedelta
    leeway: timedelta
    http_timeout: float  # seconds, for each fetch


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

    def __init__(self, issuer: str, settings: KeySettings, fetch: Callable[..., dict]):
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
    def key_for(self, kid: str | None, algorithm: str, now: datetime) -> jwt.PyJWK | None:
        """The key that signed a token (None: none of the issuer's), fetching the keys again
        when they are old or the kid is new to us, but never sooner than
        `min_refetch_interval` after the last fetch."""
        with self.lock:
            old = self.fetched_at is None or now - self.fetched_at >= self.settings.cache_lifetime
            if old and self.may_fetch(now):
                self.refresh(now)
            key = self.find(kid, algorithm)
            if key is None and self.may_fetch(now):
                self.refresh(now)  # a kid we have not seen: the issuer may have rotated its keys
                key = self.find(kid, algorithm)
            if key is None and not self.keys:
                raise IssuerUnavailable(f"no keys for {self.issuer} yet")
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
                self.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout
            )
            if discovery.get("issuer") != self.issuer:  # OpenID Connect Discovery §4.3
                raise IssuerUnavailable("the discovery document names another issuer")
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise IssuerUnavailable("the discovery document has no jwks_uri")
            jwks = self.fetch(jwks_uri, timeout)
        except (IssuerUnavailable, ValueError) as error:  # ValueError: a non-https jwks_uri
            logger.warning("Cannot fetch the keys of %s: %s", self.issuer, error)
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
