"""Every expiry measured on an injected clock (the config's CLOCK), moved by the test instead of
waited for: access and refresh tokens, verification tokens, the login-throttle window, the
resend window."""

from datetime import timedelta

import pytest
from manual_clock import ManualClock
from settings import TEST_PASSWORD
from test_verification import mailed_tokens, register

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
VERIFY = "/api/v1/auth/verify"
RESEND = "/api/v1/auth/resend-verification"
ME = "/api/v1/auth/me"
SECOND = timedelta(seconds=1)


@pytest.fixture
def clock(app) -> ManualClock:
    """The app's clock for this test (the `app` fixture restores the real one afterwards)."""
    app.config["CLOCK"] = ManualClock()
    return app.config["CLOCK"]


def login(client, email: str, password: str = TEST_PASSWORD):
    """POST a login."""
    return client.post(LOGIN, json={"email": email, "password": password})


def test_a_refresh_token_works_until_its_fourteenth_day_ends(clock, anonymous_client, make_user):
    user = make_user()
    refresh_token = login(anonymous_client, user["email"]).get_json()["refresh_token"]
    clock.advance(timedelta(days=14) - SECOND)
    response = anonymous_client.post(REFRESH, json={"refresh_token": refresh_token})
    assert response.status_code == 200
    clock.advance(timedelta(days=14))
    fresh = response.get_json()["refresh_token"]
    assert anonymous_client.post(REFRESH, json={"refresh_token": fresh}).status_code == 401


def test_an_access_token_works_until_its_fifteenth_minute_ends(clock, anonymous_client, make_user):
    access_token = login(anonymous_client, make_user()["email"]).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {access_token}"}
    clock.advance(timedelta(minutes=15) - SECOND)
    assert anonymous_client.get(ME, headers=bearer).status_code == 200
    clock.advance(SECOND)
    expired = anonymous_client.get(ME, headers=bearer)
    assert expired.status_code == 401
    assert "invalid_token" in expired.headers["WWW-Authenticate"]


def test_a_verification_token_expires_after_24_hours(clock, anonymous_client, db):
    register(anonymous_client, "late@example.edu")
    register(anonymous_client, "early@example.edu")
    late, early = (
        mailed_tokens(db, "late@example.edu")[0],
        mailed_tokens(db, "early@example.edu")[0],
    )
    clock.advance(timedelta(hours=24) - SECOND)
    assert anonymous_client.post(VERIFY, json={"token": early}).status_code == 200
    clock.advance(SECOND)
    assert anonymous_client.post(VERIFY, json={"token": late}).status_code == 422


def test_the_login_throttle_lifts_when_the_window_has_passed(clock, anonymous_client, make_user):
    user = make_user()
    for _ in range(10):
        assert login(anonymous_client, user["email"], "wrong password").status_code == 401
    throttled = login(anonymous_client, user["email"])
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "900"
    clock.advance(timedelta(minutes=15) - SECOND)
    assert login(anonymous_client, user["email"]).headers["Retry-After"] == "1"
    clock.advance(SECOND)
    assert login(anonymous_client, user["email"]).status_code == 200


def test_the_resend_limit_counts_the_last_hour_only(clock, anonymous_client, db):
    register(anonymous_client, "again@example.edu")  # the first of five mails this hour
    for _ in range(5):
        assert anonymous_client.post(RESEND, json={"email": "again@example.edu"}).status_code == 202
    assert len(mailed_tokens(db, "again@example.edu")) == 5
    clock.advance(timedelta(hours=1))
    anonymous_client.post(RESEND, json={"email": "again@example.edu"})
    assert len(mailed_tokens(db, "again@example.edu")) == 6
