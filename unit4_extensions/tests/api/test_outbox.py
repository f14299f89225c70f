"""`flask --app scheduler outbox`: the queued mails, newest first, to read a verification
token without psql; `--token` prints only the token, for scripts."""

import pytest

REGISTER = "/api/v1/auth/register"
VERIFY = "/api/v1/auth/verify"


def register(client, email: str) -> None:
    """Register a student, which queues a verification mail to them."""
    response = client.post(
        REGISTER, json={"email": email, "password": "long enough password", "full_name": "Ada"}
    )
    assert response.status_code == 201


def outbox(app, *args: str):
    """Run `flask outbox ARGS`."""
    return app.test_cli_runner().invoke(args=["outbox", *args])


def test_lists_every_mail_newest_first_with_its_headers_and_body(app, anonymous_client):
    register(anonymous_client, "first@example.edu")
    register(anonymous_client, "second@example.edu")

    result = outbox(app)

    assert result.exit_code == 0, result.output
    assert result.output.index("To: second@example.edu") < result.output.index(
        "To: first@example.edu"
    )
    assert result.output.count("Subject: Confirm your email address") == 2
    assert result.output.count("Created: ") == 2
    assert "POST /api/v1/auth/verify" in result.output


def test_to_keeps_only_mail_to_that_address_in_any_letter_case(app, anonymous_client):
    register(anonymous_client, "first@example.edu")
    register(anonymous_client, "second@example.edu")

    result = outbox(app, "--to", "SECOND@Example.edu")

    assert result.exit_code == 0, result.output
    assert "To: second@example.edu" in result.output
    assert "first@example.edu" not in result.output


def test_limit_keeps_the_newest(app, anonymous_client):
    for number in range(3):
        register(anonymous_client, f"user{number}@example.edu")

    result = outbox(app, "--limit", "2")

    assert result.output.count("To: ") == 2
    assert "user0@" not in result.output


def test_limit_must_be_positive(app):
    result = outbox(app, "--limit", "0")

    assert result.exit_code == 2
    assert "Invalid value for '--limit'" in result.output


def test_an_empty_outbox_says_so(app):
    result = outbox(app)

    assert result.exit_code == 0
    assert result.output == "No mail in the outbox matches.\n"


def test_token_prints_only_the_newest_token_and_it_verifies(app, anonymous_client, db):
    register(anonymous_client, "ada@example.edu")
    anonymous_client.post("/api/v1/auth/resend-verification", json={"email": "ada@example.edu"})
    register(anonymous_client, "other@example.edu")

    result = outbox(app, "--to", "ada@example.edu", "--token")

    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert result.output == f"{token}\n"
    assert " " not in token
    mails = db.execute(
        "SELECT body FROM outbox WHERE to_address = 'ada@example.edu' ORDER BY id"
    ).fetchall()
    assert len(mails) == 2
    assert token in mails[-1]["body"]
    assert token not in mails[0]["body"]
    assert anonymous_client.post(VERIFY, json={"token": token}).status_code == 200


@pytest.mark.parametrize("to", [None, "nobody@example.edu"])
def test_token_without_a_matching_verification_mail_fails_with_a_message(
    app, anonymous_client, db, to
):
    if to:
        register(anonymous_client, "ada@example.edu")
    db.execute(
        "INSERT INTO outbox (to_address, subject, body) VALUES ('x@example.edu', 'Hi', 'No token')"
    )

    result = outbox(app, "--token", *(["--to", to] if to else []))

    assert result.exit_code == 1
    assert "No verification mail in the outbox matches." in result.output


def test_each_mail_says_whether_it_was_sent(app, anonymous_client, smtp_sink, run_jobs):
    register(anonymous_client, "first@example.edu")
    assert "Status: not sent yet\n" in outbox(app).output

    run_jobs()

    assert "Status: sent 20" in outbox(app).output
    assert len(smtp_sink.to("first@example.edu")) == 1
