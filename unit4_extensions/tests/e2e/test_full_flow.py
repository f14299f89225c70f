"""The whole system, one user flow (lesson 4.10): gunicorn with three processes and two
`flask worker`s on a PostgreSQL of the test's own, a real SMTP server, a real OpenID Connect
provider (oidc-provider-mock) and an OpenAI-compatible model server, all on this machine, and
the test a client that only speaks HTTP, as a browser or a mobile app would.

Nothing is called in-process: each step below goes through gunicorn, and each background
step (a mail, a promotion, a plan) through the job queue in PostgreSQL and a worker process.
"""

import re

import pytest
from fake_model_server import fake_model_server
from helpers import SECTION_DEFAULTS, course_body, instructor_body, room_body
from http_load import call
from oidc_servers import CLIENT_ID, id_token_from, mock_provider
from running_system import app_environment, create_admin

pytestmark = pytest.mark.system

ADMIN = "admin@flow.example"
PASSWORD = "correct horse battery staple"
BACKGROUND_TIMEOUT = 60  # seconds for a job (a mail, a promotion, a plan) on a busy machine
TOKEN_IN_MAIL = re.compile(r"POST /api/v1/auth/verify:\s+(\S+)")


class Client:
    """One user's HTTP client: JSON in and out, with their access token once signed in."""

    def __init__(self, base_url: str, token: str | None = None):
        """A client of the API at `base_url`."""
        self.base_url, self.token = base_url, token

    def expect(self, status: int, method: str, path: str, body: dict | None = None) -> dict:
        """Send one request and insist on `status`; the JSON answer."""
        got, headers, answer = call(f"{self.base_url}{path}", method, body, self.token)
        assert got == status, (method, path, body, got, answer)
        answer["_location"] = headers.get("Location")
        return answer

    def log_in(self, email: str, password: str) -> "Client":
        """Log in; this client then acts as that user."""
        self.token = self.expect(
            200, "POST", "/auth/login", {"email": email, "password": password}
        )["access_token"]
        return self


def mail_to(sink, processes, address: str, subject_start: str):
    """Wait (bounded) for the mail to `address` whose subject starts so; return it."""

    def arrived():
        found = [m for m in sink.to(address) if m["Subject"].startswith(subject_start)]
        return found[-1] if found else None

    return processes.wait_until(arrived, BACKGROUND_TIMEOUT)


def register_and_verify(api: str, sink, processes, email: str) -> Client:
    """A student registers, takes the token from the mail the worker delivered, verifies and
    logs in; their client."""
    student = Client(api)
    student.expect(
        201, "POST", "/auth/register", {"email": email, "password": PASSWORD, "full_name": email}
    )
    mail = mail_to(sink, processes, email, "Confirm your email address")
    token = TOKEN_IN_MAIL.search(mail.get_content()).group(1)
    assert student.expect(200, "POST", "/auth/verify", {"token": token})["is_verified"] is True
    return student.log_in(email, PASSWORD)


# --8<-- [start:flow]
def test_a_term_from_catalog_to_accepted_plan_across_every_process(
    system_database, processes, sink
):
    with mock_provider() as issuer, fake_model_server() as model:
        env = app_environment(
            system_database,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=sink.port,
            OIDC_ISSUERS=[{"issuer": issuer, "audience": CLIENT_ID, "algorithms": ["RS256"]}],
            ADVISOR_PROVIDER="openai",
            ADVISOR_BASE_URL=model.base_url,
            ADVISOR_MODEL="fake-model",
            WORKER_HEARTBEAT=1,
        )
        api = processes.gunicorn(env, workers=3)
        processes.worker(env)
        processes.worker(env)

        # An admin builds the term's catalog: a small seminar, and a lecture with room to spare.
        create_admin(env, ADMIN, PASSWORD)
        admin = Client(api).log_in(ADMIN, PASSWORD)
        room = admin.expect(201, "POST", "/rooms", room_body())
        instructor = admin.expect(201, "POST", "/instructors", instructor_body())

        def section(capacity: int, **times) -> dict:
            course = admin.expect(201, "POST", "/courses", course_body())
            body = {**SECTION_DEFAULTS, **times, "capacity": capacity, "room_id": room["id"]}
            body |= {"course_id": course["id"], "instructor_id": instructor["id"]}
            return admin.expect(201, "POST", "/sections", body)

        seminar = section(1)
        lecture = section(20, days=["TUE", "THU"])

        # Two students register; each verification mail goes out through a worker and SMTP.
        ana = register_and_verify(api, sink, processes, "ana@flow.example")
        ben = register_and_verify(api, sink, processes, "ben@flow.example")
        ana_id = ana.expect(200, "GET", "/auth/me")["student_id"]
        ben_id = ben.expect(200, "GET", "/auth/me")["student_id"]

        # Ana takes the seminar's only seat; Ben is waitlisted, first in line.
        seats = f"/sections/{seminar['id']}/enrollments"
        assert ana.expect(201, "POST", seats, {"student_id": ana_id})["status"] == "enrolled"
        waiting = ben.expect(201, "POST", seats, {"student_id": ben_id})
        assert (waiting["status"], waiting["position"]) == ("waitlisted", 1)

        # Ana drops: a worker gives Ben the seat, and mails him.
        ana.expect(204, "DELETE", f"{seats}/{ana_id}")
        mail = mail_to(sink, processes, "ben@flow.example", "You have a seat in")
        assert seminar["course"]["code"] in mail["Subject"]
        roster = admin.expect(200, "GET", seats)["items"]
        assert [(row["student"]["id"], row["status"]) for row in roster] == [(ben_id, "enrolled")]

        # Cleo signs in through the OpenID Connect provider: her first sign-in makes her a
        # verified student, who enrolls with the provider's token.
        cleo_claims = {"email": "cleo@flow.example", "email_verified": True, "name": "Cleo"}
        cleo = Client(api, id_token_from(issuer, "cleo-at-provider", cleo_claims))
        me = cleo.expect(200, "GET", "/auth/me")
        assert (me["role"], me["is_verified"]) == ("student", True)
        lecture_seats = f"/sections/{lecture['id']}/enrollments"
        cleo.expect(201, "POST", lecture_seats, {"student_id": me["student_id"]})

        # Ben asks the advisor; a worker asks the model, checks its answer against the
        # database, and the plan is ready; Ben accepts it and is enrolled in the lecture.
        model.answer_plan((lecture["id"], "It fits around your seminar."))
        asked = ben.expect(202, "POST", "/advisor/plans", {"term": "2027-spring", "goals": "More"})
        plan_path = asked["_location"].removeprefix("/api/v1")

        def plan_done():
            plan = ben.expect(200, "GET", plan_path)
            return plan if plan["status"] != "pending" else None

        plan = processes.wait_until(plan_done, BACKGROUND_TIMEOUT)
        assert plan["status"] == "ready", plan
        assert [item["section_id"] for item in plan["plan"]] == [lecture["id"]]
        accepted = ben.expect(200, "POST", f"{plan_path}/accept")
        assert [item["outcome"] for item in accepted["acceptance"]] == ["enrolled"]
        schedule = ben.expect(200, "GET", f"/students/{ben_id}/schedule")["items"]
        assert {item["id"] for item in schedule} == {seminar["id"], lecture["id"]}
        # --8<-- [end:flow]
