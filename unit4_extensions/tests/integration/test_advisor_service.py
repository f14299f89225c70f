"""The advisor service below the HTTP edge: a plan finished by another run of its job while
the model was thinking is left as that run stored it."""

from helpers import make_section

from scheduler.advisor_models.interface import Answer, Prompt
from scheduler.extensions import database
from scheduler.services import advisor


class FinishedMeanwhile:
    """A provider whose call outlasts another run of the same job: that run marks the plan
    failed while this one waits for its answer."""

    name = "test"
    model = "test-model"

    def __init__(self, db, plan_id: int):
        self.db, self.plan_id = db, plan_id

    def complete(self, prompt: Prompt) -> Answer:  # noqa: ARG002 (the prompt is not read)
        """Let the other run finish the plan, then answer well."""
        self.db.execute(
            "UPDATE advisor_plans SET status = 'failed', failure_reason = 'The other run.',"
            " finished_at = now() WHERE id = %s",
            (self.plan_id,),
        )
        return Answer(text='{"sections": []}', model=self.model)


def test_a_plan_another_run_finished_meanwhile_is_not_overwritten(
    app, client, make_user, client_for, db
):
    make_section(client)
    asked = client_for(make_user("student")).post(
        "/api/v1/advisor/plans", json={"term": "2027-spring", "goals": "x"}
    )
    plan_id = asked.get_json()["id"]

    with app.app_context():
        status = advisor.generate_plan(database(), FinishedMeanwhile(db, plan_id), 1, plan_id)

    assert status == "failed"
    stored = db.execute("SELECT status, failure_reason FROM advisor_plans").fetchone()
    assert stored == {"status": "failed", "failure_reason": "The other run."}
