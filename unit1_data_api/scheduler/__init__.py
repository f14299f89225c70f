"""Course Scheduler, Unit 1: a JSON API over a PostgreSQL catalog of courses and sections."""

from datetime import date, datetime, time

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from scheduler.config import load_config
from scheduler.errors import register_error_handlers, register_fault_handlers
from scheduler.http import IdConverter, without_content_type_on_no_content
from scheduler.routes import register_blueprints
from scheduler_common.cli import register_commands
from scheduler_common.db import init_pool

# --8<-- [start:schema-parts]
SCHEMA_PARTS = ("unit1_catalog",)
# --8<-- [end:schema-parts]


class IsoJSONProvider(DefaultJSONProvider):
    """JSON with ISO 8601 dates and times (Flask's default is the HTTP date format)."""

    @staticmethod
    def default(value):
        """Serialize dates and times as ISO 8601; leave the rest to Flask."""
        if isinstance(value, datetime | date | time):
            return value.isoformat()
        return DefaultJSONProvider.default(value)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, database pool, error handlers, blueprints and CLI commands."""
    app = Flask(__name__)
    app.config.update(load_config(test_config))
    app.json = IsoJSONProvider(app)
    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False
    init_pool(app)
    register_error_handlers(app)
    register_fault_handlers(app)
    app.after_request(without_content_type_on_no_content)
    register_blueprints(app)
    register_commands(app, SCHEMA_PARTS)
    return app
