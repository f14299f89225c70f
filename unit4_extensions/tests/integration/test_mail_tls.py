"""SMTP_SECURITY and the login, against aiosmtpd with a certificate made for the test: the
worker verifies the server's certificate (the test's authority is trusted through
SSL_CERT_FILE, never by switching verification off) and logs in when SMTP_USERNAME is set."""

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from smtp_sink import Sink, SinkController

from scheduler.extensions import database
from scheduler.services.mail import queue_mail

USERNAME, PASSWORD = "scheduler", "s3cret-smtp-password"
# aiosmtpd warns of AUTH without STARTTLS; with `tls` the whole connection is TLS already.
AUTH_OVER_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def check_login(_server, _session, _envelope, _mechanism, auth_data) -> AuthResult:
    """aiosmtpd's authenticator: only USERNAME with PASSWORD gets in."""
    valid = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=valid, handled=False)  # not handled: aiosmtpd answers 535


@pytest.fixture
def tls_server(app, certificate, monkeypatch) -> Iterator:
    """Start a sink that speaks STARTTLS (`starttls`) or TLS from the first byte (`tls`),
    and requires the login; the app's mail goes to it, and its certificate is trusted."""
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    controllers = []

    def start(security: str) -> Sink:
        sink = Sink()
        options = {"authenticator": check_login, "auth_required": True}
        if security == "starttls":
            options |= {"tls_context": server_context, "require_starttls": True}
        else:
            # aiosmtpd counts only STARTTLS as TLS; this whole connection is TLS.
            options |= {"ssl_context": server_context, "auth_require_tls": False}
        controller = SinkController(sink, hostname="127.0.0.1", port=0, **options)
        controller.start()
        controllers.append(controller)
        app.config.update(
            SMTP_HOST="localhost",
            SMTP_PORT=controller.port,
            SMTP_SECURITY=security,
            SMTP_USERNAME=USERNAME,
            SMTP_PASSWORD=PASSWORD,
        )
        return sink

    yield start
    for controller in controllers:
        controller.stop()


def queue(app) -> int:
    """Queue one mail; return its outbox id."""
    with app.app_context(), database().transaction() as conn:
        queue_mail(conn, "ada@example.edu", "Hello", "Over TLS.")
        return conn.execute("SELECT max(id) AS id FROM outbox").fetchone()["id"]


def outbox_row(db, outbox_id: int) -> dict:
    """The outbox row as it is now."""
    return db.execute("SELECT * FROM outbox WHERE id = %s", (outbox_id,)).fetchone()


@AUTH_OVER_TLS
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_over_tls_with_the_login(app, tls_server, run_jobs, db, security):
    sink = tls_server(security)
    outbox_id = queue(app)

    run_jobs()

    [message] = sink.messages
    assert message["To"] == "ada@example.edu"
    assert outbox_row(db, outbox_id)["sent_at"] is not None


@AUTH_OVER_TLS
def test_a_certificate_nobody_vouches_for_is_refused_and_the_mail_waits(
    app, tls_server, run_jobs, db, monkeypatch, tmp_path
):
    sink = tls_server("tls")
    other_authority = tmp_path / "empty.pem"
    other_authority.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_authority))
    outbox_id = queue(app)

    run_jobs()

    assert sink.messages == []
    row = outbox_row(db, outbox_id)
    assert row["sent_at"] is None
    assert "CERTIFICATE_VERIFY_FAILED" in row["last_error"]  # retried later, with backoff


def test_a_wrong_password_is_a_rejection_kept_on_the_row_without_the_password(
    app, tls_server, run_jobs, db
):
    sink = tls_server("starttls")
    app.config["SMTP_PASSWORD"] = "wrong-password"
    outbox_id = queue(app)

    run_jobs()

    assert sink.messages == []
    row = outbox_row(db, outbox_id)
    assert row["rejected_at"] is not None
    assert row["last_error"].startswith("535 ")
    assert "wrong-password" not in row["last_error"]
