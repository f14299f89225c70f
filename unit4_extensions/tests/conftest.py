"""Fixtures for Unit 2's tests; the database plumbing comes from scheduler_common.testing.

Most tests act as an admin (`client`), who may do everything Unit 1 allowed anyone; tests
of who may do what use `anonymous_client` and `client_for(user)`. Every one of these clients
checks each response it receives against the OpenAPI document (see contract.py).
"""

import pytest
from contract import ContractClient
from procrastinate.periodic import PeriodicRegistry
from settings import TEST_PASSWORD, TEST_SETTINGS, token_for
from smtp_sink import Sink, SinkController

from scheduler import create_app, create_schema
from scheduler.background import queue
from scheduler.security import hash_password
from scheduler.worker import run_worker
from scheduler_common.db import transaction


@pytest.fixture(scope="session")
def schema_creator():
    """What builds this unit's schema in the template database."""
    return create_schema


@pytest.fixture(scope="session")
def app_factory():
    """The unit's app factory with test settings, for the common `app` fixture."""

    def create_test_app(overrides: dict | None = None):
        app = create_app({**TEST_SETTINGS, **(overrides or {})})
        # Every response any test receives is checked against the OpenAPI document.
        app.test_client_class = ContractClient
        return app

    return create_test_app


@pytest.fixture(scope="session")
def password_hash() -> str:
    """TEST_PASSWORD hashed once per run."""
    return hash_password(TEST_PASSWORD, TEST_SETTINGS["BCRYPT_ROUNDS"])


@pytest.fixture
def make_user(app, password_hash):
    """Create a user straight in the database (a student or instructor row for those roles),
    through the app's pool: a connection of its own would cost every test that logs in a
    connect, and a wait for its server process to exit before the database can be dropped."""

    def make(role: str = "student", *, email: str | None = None, verified: bool = True) -> dict:
        with app.app_context(), transaction() as db:
            number = db.execute("SELECT count(*) + 1 AS n FROM users").fetchone()["n"]
            email = email or f"{role}{number}@example.edu"
            student_id = instructor_id = None
            if role == "student":
                student_id = db.execute(
                    "INSERT INTO students (full_name, email) VALUES (%s, %s) RETURNING id",
                    (f"Student {number}", email),
                ).fetchone()["id"]
            elif role == "instructor":
                instructor_id = db.execute(
                    "INSERT INTO instructors (full_name, email) VALUES (%s, %s) RETURNING id",
                    (f"Instructor {number}", email),
                ).fetchone()["id"]
            return db.execute(
                """
            INSERT INTO users (email, password_hash, role, is_verified, student_id, instructor_id)
            VALUES (%s, %s, %s, %s, %s, %s)
            RETURNING id, email, role, is_verified, student_id, instructor_id
                """,
                (email, password_hash, role, verified, student_id, instructor_id),
            ).fetchone()

    return make


@pytest.fixture
def client_for(app):
    """Return a test client that sends the given user's access token on every request."""

    def make(user: dict):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(user)}"
        return client

    return make


@pytest.fixture
def admin(make_user) -> dict:
    """A verified admin account."""
    return make_user("admin", email="admin@example.edu")


@pytest.fixture
def student(make_user) -> dict:
    """A verified student account."""
    return make_user("student")


@pytest.fixture
def student_client(client_for, student):
    """A client acting as that student."""
    return client_for(student)


@pytest.fixture
def client(client_for, admin):
    """A test client acting as the admin."""
    return client_for(admin)


@pytest.fixture
def anonymous_client(app):
    """A test client without credentials."""
    return app.test_client()


@pytest.fixture
def run_jobs(app, monkeypatch):
    """Run the jobs that are due in this process, as a worker would, until none is left: the
    jobs the test queued, and not the schedule's (a purge at minute 17, a sweep every five),
    which a run that happened to fall on their minute would add."""
    queue.perform_import_paths()  # the tasks' schedules go on the real registry, not this one
    monkeypatch.setattr(queue, "periodic_registry", PeriodicRegistry())

    def run(**options) -> None:
        run_worker(app, wait=False, install_signal_handlers=False, listen_notify=False, **options)

    return run


@pytest.fixture
def smtp_sink(app):
    """A real SMTP server in this process on a free port, and the app's mail pointed at it."""
    sink = Sink()
    controller = SinkController(sink, hostname="127.0.0.1", port=0)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_SECURITY="none")
    sink.port = controller.port
    yield sink
    for held in sink.holds:  # a test that failed midway must not leave a session waiting
        held.release.set()
    controller.stop()
