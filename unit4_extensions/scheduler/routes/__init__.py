"""HTTP: one blueprint per resource, all under /api/v1."""

from flask import Blueprint, Flask

from scheduler.routes import (
    advisor,
    auth,
    courses,
    docs,
    enrollments,
    health,
    instructors,
    rooms,
    sections,
    students,
)

API_PREFIX = "/api/v1"


def register_blueprints(app: Flask) -> None:
    """Mount every resource's blueprint under the API prefix."""
    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    for module in (
        health,
        auth,
        courses,
        instructors,
        rooms,
        students,
        sections,
        enrollments,
        docs,
        advisor,
    ):
        api.register_blueprint(module.bp)
    app.register_blueprint(api)
