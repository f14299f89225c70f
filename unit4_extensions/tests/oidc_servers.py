"""Identity providers for the external sign-in tests (lesson 4.6), each a real HTTP server on
this machine: oidc-provider-mock (a whole OpenID Connect provider, driven through its
authorization-code flow) and `KeyServer` (just a discovery document and a JWKS, of keys the
test makes, counting each fetch), for the cases no honest provider issues."""

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from oidc_provider_mock import run_server_in_thread

CLIENT_ID = "scheduler-web"  # the audience of the mock provider's ID tokens
REDIRECT_URI = "http://localhost/signed-in"  # never visited: the test reads the code from it
TIMEOUT = 10  # seconds: bounded, so a broken provider fails the test instead of hanging it


# --8<-- [start:mock-provider]
@contextmanager
def mock_provider() -> Iterator[str]:
    """Run oidc-provider-mock on a free port of this machine; yield its issuer URL."""
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def id_token_from(issuer: str, subject: str, claims: dict) -> str:
    """Sign `subject` in at the mock provider (with these claims) through the authorization-
    code flow, as a browser and our front end would, and return the ID token it issues."""
    with httpx.Client(base_url=issuer, timeout=TIMEOUT) as http:
        http.put(f"/users/{subject}", json=claims).raise_for_status()
        authorized = http.post(
            "/oauth2/authorize",
            params={
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT_URI,
                "response_type": "code",
                "scope": "openid email profile",
                "nonce": uuid.uuid4().hex,
            },
            data={"sub": subject},  # the user pressing "authorize" on the provider's form
        )
        assert authorized.status_code == 302, authorized.text
        code = parse_qs(urlsplit(authorized.headers["Location"]).query)["code"][0]
        tokens = http.post(
            "/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": CLIENT_ID,
                "client_secret": "any",  # the mock takes any secret of an unregistered client
            },
        )
        tokens.raise_for_status()
        return tokens.json()["id_token"]
        # --8<-- [end:mock-provider]


def rsa_key() -> rsa.RSAPrivateKey:
    """A new RSA private key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    """A new P-256 private key (ES256)."""
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key, kid: str) -> dict:
    """The JWK of a private key's public half, named `kid`."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


# --8<-- [start:key-server]
class KeyServer:
    """A discovery document and a JWKS over HTTP; `keys` is what the JWKS serves (change it to
    rotate), `hits` counts fetches of each path, and `failing` makes every answer a 500."""

    def __init__(self, host: str = "127.0.0.1"):
        """Listen on a free port of this machine, serving nothing but the two documents."""
        self.keys: list[dict] = []
        self.hits = {"discovery": 0, "jwks": 0}
        self.failing = False
        self.announced_issuer: str | None = None  # what the discovery says; None: the truth
        self.announced_jwks_uri: str | None = None
        self.server = ThreadingHTTPServer((host, 0), self.handler())
        self.issuer = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, bound to this server's state."""
        keys_server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                """Serve the discovery document or the JWKS, counting the fetch."""
                documents = {
                    "/.well-known/openid-configuration": ("discovery", keys_server.discovery),
                    "/jwks": ("jwks", lambda: {"keys": keys_server.keys}),
                }
                if self.path not in documents:
                    self.send_error(404)
                    return
                name, document = documents[self.path]
                keys_server.hits[name] += 1
                if keys_server.failing:
                    self.send_error(500)
                    return
                body = json.dumps(document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                """Keep the test output quiet."""

        return Handler

    def discovery(self) -> dict:
        """The discovery document: the issuer and where its keys are."""
        return {
            "issuer": self.announced_issuer or self.issuer,
            "jwks_uri": self.announced_jwks_uri or f"{self.issuer}/jwks",
        }

    def __enter__(self) -> "KeyServer":
        """Start serving."""
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)
        # --8<-- [end:key-server]


def signed(private_key, kid: str | None, claims: dict, algorithm: str = "RS256") -> str:
    """A token with these claims, signed by the key and naming `kid` in its header."""
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, private_key, algorithm=algorithm, headers=headers)


def claims_at(now: datetime, issuer: str, audience: str, **changes) -> dict:
    """An ID token's claims, issued at `now` for five minutes; `changes` replace or add
    claims (a value of None leaves that claim out)."""
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": "user-1",
        "email": "ada@example.edu",
        "email_verified": True,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        **changes,
    }
    return {name: value for name, value in claims.items() if value is not None}
