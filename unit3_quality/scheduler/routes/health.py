"""GET /health: is the app up, and can it reach its database?"""

from flask import Blueprint

from scheduler_common.db import connection

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Answer 200 when the database answers; the error handlers turn an outage into a 503."""
    with connection() as conn:
        conn.execute("SELECT 1")
    return {"status": "ok", "database": "ok"}
