"""Course Scheduler, Unit 4: Unit 3's API (accounts, tokens, rules and roles, its OpenAPI
contract and viewer), with its schema kept as migrations and a waitlist for full sections."""

from datetime import date, datetime, time

import psycopg
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from scheduler.auth import check_presented_token
from scheduler.cli import register_auth_commands
from scheduler.config import load_config
from scheduler.db_commands import register_db_commands
from scheduler.errors import register_error_handlers
from scheduler.extensions import init_dummy_hash, init_oidc
from scheduler.faults import register_fault_handlers
from scheduler.http import IdConverter, without_content_type_on_no_content
from scheduler.migrator import conninfo_of, upgrade
from scheduler.request_id import init_request_ids
from scheduler.routes import register_blueprints
from scheduler.worker import register_worker_commands
from scheduler_common.cli import register_seed_command
from scheduler_common.db import init_pool


# --8<-- [start:schema]
def create_schema(conn: psycopg.Connection) -> None:
    """Bring the database `conn` is connected to up to this unit's newest schema, through its
    migrations (on a connection of their own: yoyo commits each migration by itself)."""
    upgrade(conninfo_of(conn))
    # --8<-- [end:schema]


class IsoJSONProvider(DefaultJSONProvider):
    """JSON with ISO 8601 dates and times (Flask's default is the HTTP date format)."""

    @staticmethod
    def default(value):
        """Serialize dates and times as ISO 8601; leave the rest to Flask."""
        if isinstance(value, datetime | date | time):
            return value.isoformat()
        return DefaultJSONProvider.default(value)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, database pool, the login's dummy hash, request ids, error
    handlers, blueprints and CLI commands."""
    app = Flask(__name__)
    app.config.update(load_config(test_config))
    app.json = IsoJSONProvider(app)
    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False
    init_pool(app)
    init_dummy_hash(app)
    init_oidc(app)
    init_request_ids(app)
    register_error_handlers(app)
    register_fault_handlers(app)
    app.after_request(without_content_type_on_no_content)
    app.before_request(check_presented_token)
    register_blueprints(app)
    register_db_commands(app)
    register_seed_command(app)
    register_auth_commands(app)
    register_worker_commands(app)
    return app
