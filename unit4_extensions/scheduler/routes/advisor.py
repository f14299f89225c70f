"""/advisor/plans: ask the course advisor for a plan, read it when ready, accept it."""

from flask import Blueprint, current_app, jsonify, url_for
from voluptuous import Required, Schema

from scheduler.auth import authenticated, current_identity
from scheduler.extensions import database
from scheduler.http import json_body
from scheduler.services import advisor
from scheduler.validation import term, text, validate

bp = Blueprint("advisor", __name__, url_prefix="/advisor/plans")

MAX_GOALS_LENGTH = 2000  # characters: a paragraph, and a bound on what each prompt costs

plan_schema = Schema({Required("term"): term, Required("goals"): text(MAX_GOALS_LENGTH)})


# --8<-- [start:request]
@bp.post("")
@authenticated
def request_plan():
    """Ask for a plan (a verified student, for themselves): 202, and where to poll for it."""
    body = validate(plan_schema, json_body())
    plan = advisor.request_plan(
        database(),
        current_identity(),
        body["term"],
        body["goals"],
        advisor.AdvisorSettings.from_config(current_app.config),
    )
    location = url_for(".get_plan", plan_id=plan["id"])
    return jsonify(plan), 202, {"Location": location}
    # --8<-- [end:request]


@bp.get("/<id:plan_id>")
@authenticated
def get_plan(plan_id: int):
    """Show a plan: pending, ready (the sections, and what was removed and why) or failed."""
    return advisor.get_plan(database(), current_identity(), plan_id)


@bp.post("/<id:plan_id>/accept")
@authenticated
def accept_plan(plan_id: int):
    """Enroll in a ready plan's sections, each by the usual rules; say how each one went."""
    return advisor.accept_plan(database(), current_identity(), plan_id)
