"""The waitlist promoted in the background (lesson 4.9): a drop or a raised capacity defers the
job `promote_waitlist` and seats nobody by itself; the job seats the next in line, moves the
rest up and mails the promoted student; run again, it seats nobody."""

import pytest
from helpers import drop, enroll, make_section, make_student, positions

SECTIONS = "/api/v1/sections"


def promotion_jobs(db) -> list[dict]:
    """The promote_waitlist jobs in the queue, oldest first: their arguments and status."""
    return db.execute(
        "SELECT args, status FROM procrastinate_jobs"
        " WHERE task_name = 'promote_waitlist' ORDER BY id"
    ).fetchall()


def mails_to(db, address: str) -> list[dict]:
    """The outbox's mails to an address, each with the ids of the delivery jobs deferred for it."""
    return db.execute(
        """
        SELECT o.subject, o.body,
               array(SELECT j.id FROM procrastinate_jobs AS j
                      WHERE j.task_name = 'deliver_mail'
                        AND (j.args ->> 'outbox_id')::bigint = o.id) AS jobs
          FROM outbox AS o
         WHERE o.to_address = %s
         ORDER BY o.id
        """,
        (address,),
    ).fetchall()


@pytest.fixture
def full_section(client) -> dict:
    """A section of two seats, both taken, and three students waiting in that order."""
    section = make_section(client, capacity=2)
    seated = [make_student(client) for _ in range(2)]
    waiting = [make_student(client) for _ in range(3)]
    for student in seated + waiting:
        enroll(client, section["id"], student["id"])
    return {"section": section, "seated": seated, "waiting": waiting}


def test_a_drop_defers_the_promotion_and_seats_nobody_until_it_runs(client, db, full_section):
    section_id = full_section["section"]["id"]
    before = positions(client, section_id)

    drop(client, section_id, full_section["seated"][0]["id"])

    assert promotion_jobs(db) == [{"args": {"section_id": section_id}, "status": "todo"}]
    del before[full_section["seated"][0]["id"]]
    assert positions(client, section_id) == before


def test_the_job_seats_the_next_in_line_moves_the_rest_up_and_mails_them(
    client, db, run_jobs, full_section
):
    section_id = full_section["section"]["id"]
    first, second, third = full_section["waiting"]
    drop(client, section_id, full_section["seated"][0]["id"])

    run_jobs()

    assert positions(client, section_id) == {
        full_section["seated"][1]["id"]: ("enrolled", None),
        first["id"]: ("enrolled", None),
        second["id"]: ("waitlisted", 1),
        third["id"]: ("waitlisted", 2),
    }
    assert [job["status"] for job in promotion_jobs(db)] == ["succeeded"]
    (mail,) = mails_to(db, first["email"])
    code = client.get(f"{SECTIONS}/{section_id}").get_json()["course"]["code"]
    assert mail["subject"] == f"You have a seat in {code}"
    assert f"section {section_id}, term 2027-spring" in mail["body"]
    assert len(mail["jobs"]) == 1  # its delivery, deferred with it
    assert mails_to(db, second["email"]) == []


def test_running_the_job_again_seats_nobody_twice(client, db, run_jobs, full_section):
    section_id = full_section["section"]["id"]
    drop(client, section_id, full_section["seated"][0]["id"])
    run_jobs()
    after_first_run = positions(client, section_id)
    outbox_size = db.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"]

    db.execute("UPDATE procrastinate_jobs SET status = 'todo' WHERE task_name = 'promote_waitlist'")
    run_jobs()

    assert positions(client, section_id) == after_first_run
    assert db.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"] == outbox_size


def test_dropping_out_of_the_line_frees_no_seat_and_defers_nothing(client, db, full_section):
    section_id = full_section["section"]["id"]

    drop(client, section_id, full_section["waiting"][1]["id"])

    assert promotion_jobs(db) == []


def test_a_drop_from_a_section_nobody_waits_for_defers_nothing(client, db):
    section = make_section(client, capacity=2)
    student = make_student(client)
    enroll(client, section["id"], student["id"])

    drop(client, section["id"], student["id"])

    assert promotion_jobs(db) == []


def test_raising_the_capacity_by_two_seats_the_next_two(client, db, run_jobs, full_section):
    section_id = full_section["section"]["id"]
    first, second, third = full_section["waiting"]

    response = client.patch(f"{SECTIONS}/{section_id}", json={"capacity": 4})
    assert response.status_code == 200, response.get_json()
    assert promotion_jobs(db) == [{"args": {"section_id": section_id}, "status": "todo"}]
    run_jobs()

    assert positions(client, section_id) == {
        **{student["id"]: ("enrolled", None) for student in full_section["seated"]},
        first["id"]: ("enrolled", None),
        second["id"]: ("enrolled", None),
        third["id"]: ("waitlisted", 1),
    }
    assert len(mails_to(db, first["email"])) == len(mails_to(db, second["email"])) == 1


@pytest.mark.parametrize("change", [{"capacity": 2}, {"notes": "Bring a laptop."}])
def test_a_change_that_adds_no_seat_defers_nothing(client, db, full_section, change):
    response = client.patch(f"{SECTIONS}/{full_section['section']['id']}", json=change)

    assert response.status_code == 200, response.get_json()
    assert promotion_jobs(db) == []


def test_a_section_deleted_before_its_job_runs_is_no_failure(client, db, run_jobs, full_section):
    section_id = full_section["section"]["id"]
    drop(client, section_id, full_section["seated"][0]["id"])
    # An admin drops everyone and deletes the section (the API refuses while anyone is in it).
    db.execute("DELETE FROM enrollments WHERE section_id = %s", (section_id,))
    db.execute("DELETE FROM sections WHERE id = %s", (section_id,))

    run_jobs()

    assert [job["status"] for job in promotion_jobs(db)] == ["succeeded"]
