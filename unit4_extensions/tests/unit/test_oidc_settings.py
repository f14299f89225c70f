"""OIDC_ISSUERS, read from a given environment (no app, no database, no provider): a good list
becomes issuers, and every mistake stops start-up with a ConfigError that says what is wrong."""

import json

import pytest

from scheduler.config import ConfigError, load_config
from scheduler.oidc import Issuer, parse_issuers

REQUIRED = {"DATABASE_URL": "postgresql://localhost/scheduler", "SECRET_KEY": "k" * 32}
AUTH0 = {
    "issuer": "https://scheduler.eu.auth0.com/",
    "audience": "https://scheduler.example/api",
    "algorithms": ["RS256"],
}


def test_no_issuers_by_default():
    assert parse_issuers(load_config(environ=REQUIRED)["OIDC_ISSUERS"]) == ()


def test_issuers_are_read_with_their_audience_claim():
    cognito = {
        "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
        "audience": "1example23456789",
        "algorithms": ["RS256", "ES256"],
        "audience_claim": "client_id",
    }
    config = load_config(environ={**REQUIRED, "OIDC_ISSUERS": json.dumps([AUTH0, cognito])})

    assert parse_issuers(config["OIDC_ISSUERS"]) == (
        Issuer(AUTH0["issuer"], AUTH0["audience"], ("RS256",)),
        Issuer(cognito["issuer"], "1example23456789", ("RS256", "ES256"), "client_id"),
    )


def test_http_is_accepted_for_this_machine_only():
    local = {**AUTH0, "issuer": "http://localhost:8080"}

    assert parse_issuers(json.dumps([local]))[0].issuer == "http://localhost:8080"


MISTAKES = {
    "not JSON": ("[{", "JSON list"),
    "not a list": (json.dumps(AUTH0), "JSON list"),
    "a missing field": (
        json.dumps([{"issuer": AUTH0["issuer"]}]),
        "issuer, audience and algorithms",
    ),
    "an unknown field": (json.dumps([{**AUTH0, "role_claim": "roles"}]), "role_claim"),
    "plain http elsewhere": (json.dumps([{**AUTH0, "issuer": "http://auth.example/"}]), "https"),
    "no host": (json.dumps([{**AUTH0, "issuer": "https://"}]), "https"),
    "an empty audience": (json.dumps([{**AUTH0, "audience": ""}]), "audience"),
    "HS256": (json.dumps([{**AUTH0, "algorithms": ["HS256"]}]), "algorithms"),
    "none": (json.dumps([{**AUTH0, "algorithms": ["none"]}]), "algorithms"),
    "no algorithm": (json.dumps([{**AUTH0, "algorithms": []}]), "algorithms"),
    "a bad audience claim": (json.dumps([{**AUTH0, "audience_claim": "azp"}]), "audience_claim"),
    "one issuer twice": (json.dumps([AUTH0, AUTH0]), "twice"),
}


@pytest.mark.parametrize(("raw", "says"), MISTAKES.values(), ids=MISTAKES)
def test_a_mistake_stops_start_up_saying_what_is_wrong(raw, says):
    with pytest.raises(ConfigError) as raised:
        load_config(environ={**REQUIRED, "OIDC_ISSUERS": raw})

    assert "OIDC_ISSUERS" in str(raised.value)
    assert says in str(raised.value)
