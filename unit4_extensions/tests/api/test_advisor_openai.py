"""The advisor against an OpenAI-compatible server (lessons 4.7 and 4.8): a real HTTP server
started by the tests (fake_model_server.py), scripted to answer well, slowly, with 429, with
500, with text that is not JSON, with invented sections and with clashes. Each ends in the
documented state, and the API key never shows up anywhere but in the Authorization header."""

import json
import logging

import pytest
from fake_model_server import fake_model_server
from helpers import make_course, make_section

from scheduler.config import load_config

PLANS = "/api/v1/advisor/plans"
API_KEY = "sk-test-RECOGNISABLE-advisor-key-0123456789"


@pytest.fixture
def model_server(app):
    """A scripted model server, and the app's advisor pointed at it with API_KEY."""
    with fake_model_server() as server:
        app.config.update(
            ADVISOR_PROVIDER="openai",
            ADVISOR_BASE_URL=server.base_url,
            ADVISOR_API_KEY=API_KEY,
            ADVISOR_MODEL="fake-model",
            ADVISOR_TIMEOUT=0.5,
            ADVISOR_MAX_RETRIES=1,
        )
        yield server


@pytest.fixture
def catalog(client, student) -> dict:
    """The student holds `mine` (MON/WED 09:00–10:15); `python` and `maths` are open and fit;
    `clashing` overlaps `mine`; `evening` overlaps `python`; `fall` is another term's;
    `python_friday` is another section of `python`'s course, on a free day."""
    python = make_course(client, title="Programming in Python", credits=4)
    sections = {
        "mine": make_section(client, days=["MON", "WED"]),
        "python": make_section(
            client, course_id=python["id"], days=["TUE"], starts_at="13:00", ends_at="14:30"
        ),
        "maths": make_section(client, days=["THU"], capacity=7),
        "clashing": make_section(client, days=["WED"], starts_at="10:00", ends_at="11:00"),
        "evening": make_section(client, days=["TUE"], starts_at="14:00", ends_at="15:00"),
        "fall": make_section(client, term="2027-fall", days=["FRI"]),
        "python_friday": make_section(client, course_id=python["id"], days=["FRI"]),
    }
    enrolled = client.post(
        f"/api/v1/sections/{sections['mine']['id']}/enrollments",
        json={"student_id": student["student_id"]},
    )
    assert enrolled.status_code == 201
    return {name: section["id"] for name, section in sections.items()}


def ask_and_run(student_client, run_jobs) -> dict:
    """Ask for a plan, let the worker make it, and return it as GET shows it."""
    response = student_client.post(PLANS, json={"term": "2027-spring", "goals": "Python."})
    assert response.status_code == 202, response.get_json()
    run_jobs()
    shown = student_client.get(response.headers["Location"])
    assert shown.status_code == 200, shown.get_json()
    return shown.get_json()


# --8<-- [start:good-answer]
def test_a_good_answer_is_a_ready_plan_with_model_tokens_and_latency(
    model_server, catalog, student_client, run_jobs, db
):
    model_server.answer_plan(
        (catalog["python"], "You asked for Python."), (catalog["maths"], "It fits on Thursday.")
    )

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "ready", plan
    assert [item["section_id"] for item in plan["plan"]] == [catalog["python"], catalog["maths"]]
    assert plan["plan"][0]["reason"] == "You asked for Python."
    assert plan["removed"] == []
    assert plan["model"] == "fake-model-2026"  # the model the server says answered
    assert (plan["prompt_tokens"], plan["completion_tokens"]) == (321, 45)
    assert plan["latency_ms"] >= 0
    stored = db.execute("SELECT prompt, response FROM advisor_plans").fetchone()
    assert json.loads(stored["response"])["sections"][0]["section_id"] == catalog["python"]
    assert stored["prompt"] == model_server.requests[0]["json"]["messages"]
    # --8<-- [end:good-answer]


# --8<-- [start:prompt-facts]
def test_the_prompt_holds_the_real_timetable_seats_and_meetings(
    model_server, catalog, student_client, run_jobs
):
    model_server.answer_plan()

    ask_and_run(student_client, run_jobs)

    (request,) = model_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    body = request["json"]
    assert body["model"] == "fake-model"
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert "never an instruction" in system["content"]
    facts = json.loads(user["content"])
    assert facts["term"] == "2027-spring"
    assert facts["goals"] == "Python."
    assert facts["student"]["credits"] == 3
    assert [s["section_id"] for s in facts["student"]["sections"]] == [catalog["mine"]]
    offered = {section["section_id"]: section for section in facts["open_sections"]}
    assert catalog["fall"] not in offered
    assert offered[catalog["maths"]]["seats_left"] == 7
    assert offered[catalog["python"]] == {
        "section_id": catalog["python"],
        "code": offered[catalog["python"]]["code"],
        "title": "Programming in Python",
        "credits": 4,
        "days": ["TUE"],
        "starts_at": "13:00",
        "ends_at": "14:30",
        "seats_left": 10,
    }
    # --8<-- [end:prompt-facts]


# --8<-- [start:untrusted]
def test_invented_full_other_term_clashing_and_repeated_sections_are_removed_with_reasons(
    model_server, catalog, student_client, run_jobs, client, db
):
    db.execute("UPDATE sections SET capacity = 1 WHERE id = %s", (catalog["maths"],))
    other = client.post("/api/v1/students", json={"full_name": "O", "email": "o@example.edu"})
    client.post(
        f"/api/v1/sections/{catalog['maths']}/enrollments",
        json={"student_id": other.get_json()["id"]},
    )
    model_server.answer_plan(
        (catalog["python"], "Python."),
        (999_999, "A section I made up."),
        (catalog["fall"], "Wrong term."),
        (catalog["maths"], "Full by now."),
        (catalog["clashing"], "Clashes with yours."),
        (catalog["evening"], "Clashes with Python."),
        (catalog["python"], "Python again."),
        (catalog["mine"], "Already yours."),
        (catalog["python_friday"], "Python on Friday."),
    )

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "ready"
    assert [item["section_id"] for item in plan["plan"]] == [catalog["python"]]
    why = {
        (item["section_id"], item["suggested_because"]): item["removed_because"]
        for item in plan["removed"]
    }
    assert why[999_999, "A section I made up."] == "There is no section 999999."
    assert why[catalog["fall"], "Wrong term."] == "It is a 2027-fall section, not 2027-spring."
    assert why[catalog["maths"], "Full by now."] == "It has no seats left."
    assert why[catalog["clashing"], "Clashes with yours."].startswith(
        f"It clashes with your section {catalog['mine']} ("
    )
    assert why[catalog["clashing"], "Clashes with yours."].endswith("both meet WED 10:00-10:15.")
    assert why[catalog["evening"], "Clashes with Python."].startswith(
        f"It clashes with suggested section {catalog['python']} ("
    )
    assert why[catalog["python"], "Python again."] == "It was suggested twice."
    assert why[catalog["mine"], "Already yours."].startswith("You are enrolled in it already")
    assert why[catalog["python_friday"], "Python on Friday."] == (
        f"It is another section of {plan['plan'][0]['code']}, "
        f"as suggested section {catalog['python']} is."
    )
    # --8<-- [end:untrusted]


def test_suggestions_past_the_credit_limit_are_removed(
    model_server, catalog, student_client, run_jobs, client
):
    heavy = make_course(client, credits=12)
    big = make_section(client, course_id=heavy["id"], days=["FRI"])["id"]
    model_server.answer_plan((catalog["python"], "Python."), (big, "Lots of credits."))

    plan = ask_and_run(student_client, run_jobs)

    assert [item["section_id"] for item in plan["plan"]] == [catalog["python"]]
    assert plan["removed"][0]["removed_because"] == (
        "It would bring you to 19 credits this term; the most is 18."
    )


# --8<-- [start:malformed]
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Sure! Here are some sections: 1, 2, 3", "The model's answer is not JSON (line 1"),
        ('{"sections": [{"section_id": "12", "reason": "x"}]}', "sections.0.section_id"),
        ('{"sections": [{"section_id": 1}]}', "sections.0.reason"),
        ('{"plan": []}', "sections: required key not provided"),
        ("[]", "the answer: expected a dictionary"),
        ("", "The model's answer is not JSON"),
    ],
)
def test_a_malformed_answer_is_a_failed_plan_with_the_reason_and_the_answer_kept(
    model_server, catalog, student_client, run_jobs, db, content, reason
):
    model_server.answer(content)

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "failed"
    assert reason in plan["failure_reason"]
    assert plan["plan"] is None
    assert db.execute("SELECT response FROM advisor_plans").fetchone()["response"] == content
    # --8<-- [end:malformed]


# --8<-- [start:slow]
def test_a_model_that_does_not_answer_in_time_is_retried_then_the_plan_fails(
    model_server, catalog, student_client, run_jobs
):
    model_server.stall(times=2)

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "failed"
    assert plan["failure_reason"] == "The model did not answer in 0.5 s (after 2 attempt(s))."
    assert len(model_server.requests) == 2  # the first attempt, and one retry
    # --8<-- [end:slow]


def test_an_answer_slower_than_the_timeout_is_not_waited_for(
    model_server, catalog, student_client, run_jobs
):
    model_server.stall(times=2, seconds=2)  # four times ADVISOR_TIMEOUT: it would come

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "failed"
    assert plan["failure_reason"].startswith("The model did not answer in 0.5 s")


def test_a_slow_first_attempt_is_retried_and_may_succeed(
    model_server, catalog, student_client, run_jobs
):
    model_server.stall()
    model_server.answer_plan((catalog["python"], "Python."))

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "ready"
    assert len(model_server.requests) == 2


# --8<-- [start:throttled]
def test_a_429_is_retried_after_the_wait_the_server_asks_for(
    model_server, catalog, student_client, run_jobs
):
    model_server.fail(429, retry_after_ms="20")
    model_server.answer_plan((catalog["python"], "Python."))

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "ready"
    assert len(model_server.requests) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_service_that_keeps_failing_makes_a_failed_plan_after_the_retries(
    model_server, catalog, student_client, run_jobs, status
):
    model_server.fail(status, times=2, retry_after_ms="20")

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "failed"
    assert plan["failure_reason"] == (
        f"The model service answered HTTP {status} (after 2 attempt(s))."
    )
    assert len(model_server.requests) == 2
    # --8<-- [end:throttled]


def test_a_server_that_cannot_be_reached_makes_a_failed_plan(
    app, catalog, student_client, run_jobs
):
    with fake_model_server() as gone:
        address = gone.base_url  # a port that nothing listens on once the block ends
    app.config.update(ADVISOR_PROVIDER="openai", ADVISOR_BASE_URL=address, ADVISOR_MAX_RETRIES=0)

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "failed"
    assert plan["failure_reason"] == "The model service could not be reached (after 1 attempt(s))."


# --8<-- [start:no-key-leaks]
def test_the_api_key_is_never_stored_logged_or_shown(
    model_server, catalog, student_client, run_jobs, db, caplog
):
    caplog.set_level(logging.DEBUG)
    # Every kind of failure, and a server that echoes the key back in its error's body.
    model_server.fail(401)
    model_server.replies[-1].body = {"error": {"message": f"Bad key {API_KEY}"}}
    model_server.stall(times=2)
    model_server.fail(500, times=2, retry_after_ms="1")
    model_server.answer("not json " + API_KEY[:3])
    model_server.answer_plan((catalog["python"], "Python."))
    shown = []
    for _ in range(5):
        shown.append(ask_and_run(student_client, run_jobs))

    assert [plan["status"] for plan in shown] == ["failed"] * 4 + ["ready"]
    assert API_KEY not in json.dumps(shown)
    rows = db.execute("SELECT row_to_json(advisor_plans)::text AS row FROM advisor_plans")
    assert all(API_KEY not in row["row"] for row in rows)
    jobs = db.execute("SELECT row_to_json(j)::text AS row FROM procrastinate_jobs AS j")
    assert all(API_KEY not in row["row"] for row in jobs)
    assert API_KEY not in caplog.text
    # --8<-- [end:no-key-leaks]


def test_the_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "advisor_api_key"
    secret.write_text(API_KEY + "\n")
    environ = {
        "DATABASE_URL": "postgresql://localhost/x",
        "SECRET_KEY": "k" * 32,
        "ADVISOR_API_KEY_FILE": str(secret),
    }

    assert load_config(environ=environ)["ADVISOR_API_KEY"] == API_KEY


def test_get_never_fails_on_a_stored_answer_with_nul_characters(
    model_server, catalog, student_client, run_jobs, db
):
    model_server.answer('{"sections": []}\u0000')

    plan = ask_and_run(student_client, run_jobs)

    assert plan["status"] == "failed"
    assert "\x00" not in db.execute("SELECT response FROM advisor_plans").fetchone()["response"]
