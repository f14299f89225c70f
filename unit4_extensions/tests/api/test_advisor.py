"""The advisor (lessons 4.7 and 4.8) through the API, with the offline planner: ask (202 and
a Location), the worker makes the plan from the real catalog and timetable, read it, accept
it through the enrollment rules; who may; the daily quota; the global cap on model calls."""

import threading

import psycopg
import pytest
from helpers import assert_problem, insert_ready_plan, make_course, make_section

PLANS = "/api/v1/advisor/plans"
SLOT_LOCK_CLASS = 407  # repositories.advisor_plans.SLOT_LOCK_CLASS


def enroll(client, section_id: int, student_id: int) -> dict:
    """Enroll through the API as the admin."""
    response = client.post(
        f"/api/v1/sections/{section_id}/enrollments", json={"student_id": student_id}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ask(client, term: str = "2027-spring", goals: str = "Programming, please.") -> dict:
    """Ask for a plan; assert the 202 and its Location; return the pending plan."""
    response = client.post(PLANS, json={"term": term, "goals": goals})
    assert response.status_code == 202, response.get_json()
    plan = response.get_json()
    assert response.headers["Location"] == f"{PLANS}/{plan['id']}"
    return plan


def plan_of(client, plan_id: int) -> dict:
    """GET the plan; assert the 200."""
    response = client.get(f"{PLANS}/{plan_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- the whole flow ---------------------------------------------------------------------------


def test_a_plan_is_pending_until_the_worker_makes_it_from_the_real_timetable(
    client, student, student_client, run_jobs, db
):
    mine = make_section(client, days=["MON", "WED"], starts_at="09:00", ends_at="10:15")
    enroll(client, mine["id"], student["student_id"])
    clashing = make_section(client, days=["WED"], starts_at="10:00", ends_at="11:00")
    wanted = make_section(
        client,
        course_id=make_course(client, title="Programming in Python")["id"],
        days=["TUE"],
        starts_at="09:00",
    )
    make_section(client, term="2027-fall", days=["FRI"])  # another term: never offered
    full = make_section(client, capacity=1, days=["FRI"], starts_at="14:00", ends_at="15:00")
    enroll(
        client,
        full["id"],
        client.post(
            "/api/v1/students", json={"full_name": "Other", "email": "other.one@example.edu"}
        ).get_json()["id"],
    )

    pending = ask(student_client)
    assert pending["status"] == "pending"
    assert pending["provider"] == "offline"
    assert pending["plan"] is None
    assert plan_of(student_client, pending["id"])["status"] == "pending"

    run_jobs()

    plan = plan_of(student_client, pending["id"])
    assert plan["status"] == "ready", plan
    planned = [item["section_id"] for item in plan["plan"]]
    assert planned[0] == wanted["id"]  # its course matches the goals
    assert "matches your goals (programming)" in plan["plan"][0]["reason"]
    assert clashing["id"] not in planned
    assert full["id"] not in planned
    assert mine["id"] not in planned
    assert plan["removed"] == []
    assert plan["finished_at"] is not None
    assert plan["latency_ms"] >= 0
    stored = db.execute("SELECT prompt, response FROM advisor_plans").fetchone()
    facts = stored["prompt"][1]["content"]
    assert f'"section_id": {wanted["id"]}' in facts
    assert f'"section_id": {full["id"]}' not in facts  # no seat left: not offered
    assert '"credits": 3' in facts
    assert str(wanted["id"]) in stored["response"]


def test_a_plan_keeps_to_the_credit_limit(client, student, student_client, run_jobs):
    for day in ("MON", "TUE", "WED", "THU", "FRI"):
        make_section(client, course_id=make_course(client, credits=4)["id"], days=[day])

    plan_id = ask(student_client)["id"]
    run_jobs()
    plan = plan_of(student_client, plan_id)

    credits = sum(item["credits"] for item in plan["plan"])
    assert plan["status"] == "ready"
    assert credits == 16  # four of the five: a fifth would make 20


def test_the_job_leaves_a_finished_plan_alone(client, student_client, run_jobs, db):
    make_section(client)
    plan = ask(student_client)
    run_jobs()
    before = db.execute("SELECT * FROM advisor_plans").fetchone()

    db.execute(
        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'generate_plan', 0, NULL, NULL,"
        " %s::jsonb, NULL)::procrastinate_job_to_defer_v1])",
        (f'{{"plan_id": {plan["id"]}}}',),
    )
    run_jobs()

    assert db.execute("SELECT * FROM advisor_plans").fetchone() == before


# --- the request -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"term": "2027-autumn", "goals": "x"}, "term"),
        ({"term": "2027-spring", "goals": "   "}, "goals"),
        ({"term": "2027-spring", "goals": "x" * 2001}, "goals"),
        ({"term": "2027-spring"}, "goals"),
        ({"term": "2027-spring", "goals": "x", "student_id": 1}, "student_id"),
    ],
)
def test_a_bad_request_is_422_naming_the_field(student_client, body, field, db):
    body = assert_problem(student_client.post(PLANS, json=body), 422)

    assert field in body["errors"]
    assert db.execute("SELECT count(*) AS n FROM advisor_plans").fetchone()["n"] == 0


def test_goals_at_the_length_limit_are_taken(student_client):
    ask(student_client, goals="x" * 2000)


def test_an_unverified_student_may_not_ask(make_user, client_for):
    body = assert_problem(
        client_for(make_user("student", verified=False)).post(
            PLANS, json={"term": "2027-spring", "goals": "x"}
        ),
        403,
    )
    assert "Verify" in body["detail"]


@pytest.mark.parametrize("role", ["admin", "instructor"])
def test_only_students_ask(make_user, client_for, role):
    email = f"{role}.asks@example.edu"
    response = client_for(make_user(role, email=email)).post(
        PLANS, json={"term": "2027-spring", "goals": "x"}
    )
    assert_problem(response, 403)


def test_a_plan_is_seen_by_its_student_and_admins_only(
    client, student_client, make_user, client_for
):
    plan = ask(student_client)

    assert plan_of(client, plan["id"])["id"] == plan["id"]
    for other in (make_user("student"), make_user("instructor")):
        assert_problem(client_for(other).get(f"{PLANS}/{plan['id']}"), 403)
    assert_problem(student_client.get(f"{PLANS}/{plan['id'] + 1}"), 404)


# --- the quota ---------------------------------------------------------------------------------


def test_past_the_daily_quota_a_request_is_429_with_retry_after(app, student_client, db):
    app.config["ADVISOR_PLANS_PER_DAY"] = 2
    ask(student_client)
    ask(student_client)

    response = student_client.post(PLANS, json={"term": "2027-spring", "goals": "x"})

    assert_problem(response, 429)
    assert 86_000 < int(response.headers["Retry-After"]) <= 86_400
    assert db.execute("SELECT count(*) AS n FROM advisor_plans").fetchone()["n"] == 2
    assert db.execute("SELECT count(*) AS n FROM procrastinate_jobs").fetchone()["n"] == 2


def test_the_quota_is_per_student_and_frees_up_after_a_day(
    app, student_client, make_user, client_for, db
):
    app.config["ADVISOR_PLANS_PER_DAY"] = 1
    ask(student_client)
    ask(client_for(make_user("student")))  # somebody else's quota
    assert_problem(student_client.post(PLANS, json={"term": "2027-spring", "goals": "x"}), 429)

    db.execute("UPDATE advisor_plans SET created_at = created_at - interval '1 day'")

    ask(student_client)


def test_concurrent_requests_cannot_both_take_the_last_plan_of_the_quota(
    app, student, client_for, db, database_url
):
    app.config["ADVISOR_PLANS_PER_DAY"] = 1
    statuses = []
    # Hold the student's row, so that both requests are inside the service, waiting, before
    # either counts: without the service's lock on it, neither would wait, and both count 0.
    with psycopg.connect(database_url) as holder, holder.transaction():
        holder.execute("SELECT 1 FROM students WHERE id = %s FOR UPDATE", (student["student_id"],))
        threads = [
            threading.Thread(
                target=lambda: statuses.append(
                    client_for(student)
                    .post(PLANS, json={"term": "2027-spring", "goals": "x"})
                    .status_code
                )
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        wait_until_waiting_for_locks(db, 2)
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [202, 429]


def wait_until_waiting_for_locks(db, count: int) -> None:
    """Return once `count` sessions wait for a row lock; fail after 10 s."""
    for _ in range(1000):
        waiting = db.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        ).fetchone()["n"]
        if waiting >= count:
            return
        threading.Event().wait(0.01)
    pytest.fail(f"{count} sessions never waited for a lock")


# --- the global cap ------------------------------------------------------------------------------


def test_with_every_model_slot_taken_a_plan_waits_in_the_queue_and_is_made_later(
    app, client, student_client, run_jobs, db, database_url
):
    app.config["ADVISOR_CONCURRENCY"] = 2
    make_section(client)
    plan = ask(student_client)
    # Another worker's calls, as far as this one can tell: both slots' advisory locks held.
    with psycopg.connect(database_url) as other_worker:
        for slot in range(2):
            other_worker.execute("SELECT pg_advisory_lock(%s, %s)", (SLOT_LOCK_CLASS, slot))

        run_jobs()

        assert plan_of(student_client, plan["id"])["status"] == "pending"
        job = db.execute(
            "SELECT status, attempts, scheduled_at > now() AS later FROM procrastinate_jobs"
        ).fetchone()
        assert job == {"status": "todo", "attempts": 1, "later": True}  # retried, not failed

    db.execute("UPDATE procrastinate_jobs SET scheduled_at = now()")  # its wait is over
    run_jobs()

    assert plan_of(student_client, plan["id"])["status"] == "ready"


def test_one_free_slot_is_enough(app, client, student_client, run_jobs, database_url):
    app.config["ADVISOR_CONCURRENCY"] = 2
    make_section(client)
    plan = ask(student_client)
    with psycopg.connect(database_url) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, 0)", (SLOT_LOCK_CLASS,))

        run_jobs()

    assert plan_of(student_client, plan["id"])["status"] == "ready"


def test_a_made_plan_holds_no_slot_or_connection(app, client, student_client, run_jobs, db):
    make_section(client)
    ask(student_client)

    run_jobs()

    assert (
        db.execute("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'").fetchone()["n"]
        == 0
    )


# --- accepting ------------------------------------------------------------------------------------


def planned(section: dict) -> dict:
    """A section as a ready plan lists it."""
    return {
        "section_id": section["id"],
        "code": section["course"]["code"],
        "title": section["course"]["title"],
        "credits": 3,
        "days": section["days"],
        "starts_at": section["starts_at"],
        "ends_at": section["ends_at"],
        "seats_left": section["seats_left"],
        "reason": "Because.",
    }


def test_accepting_enrolls_section_by_section_through_the_usual_rules(
    client, student, student_client, db
):
    fine = make_section(client, days=["MON"])
    full = make_section(client, capacity=1, days=["TUE"])
    clashing = make_section(client, days=["WED"])
    plan_id = insert_ready_plan(
        db, student["student_id"], [planned(s) for s in (fine, full, clashing)]
    )
    # Since the plan was made, the full one filled up and the student took a clashing section.
    other = client.post("/api/v1/students", json={"full_name": "O", "email": "o@example.edu"})
    enroll(client, full["id"], other.get_json()["id"])
    enroll(
        client, make_section(client, days=["WED"], starts_at="09:30")["id"], student["student_id"]
    )

    response = student_client.post(f"{PLANS}/{plan_id}/accept")

    assert response.status_code == 200, response.get_json()
    accepted = response.get_json()
    results = {result["section_id"]: result for result in accepted["acceptance"]}
    assert results[fine["id"]] == {"section_id": fine["id"], "outcome": "enrolled", "detail": None}
    assert results[full["id"]]["outcome"] == "waitlisted"
    assert "number 1 in line" in results[full["id"]]["detail"]
    assert results[clashing["id"]]["outcome"] == "refused"
    assert "clashes" in results[clashing["id"]]["detail"]
    assert accepted["accepted_at"] is not None
    statuses = {
        row["section_id"]: row["status"]
        for row in db.execute(
            "SELECT section_id, status FROM enrollments WHERE student_id = %s",
            (student["student_id"],),
        )
    }
    assert statuses[fine["id"]] == "enrolled"
    assert statuses[full["id"]] == "waitlisted"
    assert clashing["id"] not in statuses
    assert plan_of(student_client, plan_id)["acceptance"] == accepted["acceptance"]


def test_a_plan_is_accepted_once(client, student, student_client, db):
    plan_id = insert_ready_plan(db, student["student_id"], [planned(make_section(client))])
    assert student_client.post(f"{PLANS}/{plan_id}/accept").status_code == 200

    body = assert_problem(student_client.post(f"{PLANS}/{plan_id}/accept"), 409)

    assert "accepted already" in body["detail"]


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_only_a_ready_plan_is_accepted(student, student_client, db, status):
    plan_id = db.execute(
        """
        INSERT INTO advisor_plans (student_id, term, goals, status, provider, model,
                                   failure_reason, finished_at)
        VALUES (%s, '2027-spring', 'x', %s, 'offline', 'offline-planner',
                CASE WHEN %s = 'failed' THEN 'It broke.' END,
                CASE WHEN %s = 'failed' THEN now() END)
        RETURNING id
        """,
        (student["student_id"], status, status, status),
    ).fetchone()["id"]

    body = assert_problem(student_client.post(f"{PLANS}/{plan_id}/accept"), 409)

    assert status in body["detail"]
    assert db.execute("SELECT count(*) AS n FROM enrollments").fetchone()["n"] == 0


def test_another_student_may_not_accept_a_plan(client, student, make_user, client_for, db):
    plan_id = insert_ready_plan(db, student["student_id"], [planned(make_section(client))])

    assert_problem(client_for(make_user("student")).post(f"{PLANS}/{plan_id}/accept"), 403)
    assert_problem(client.post(f"{PLANS}/{plan_id + 1}/accept"), 404)
    assert db.execute("SELECT accepted_at FROM advisor_plans").fetchone()["accepted_at"] is None
