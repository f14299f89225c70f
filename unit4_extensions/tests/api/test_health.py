"""GET /api/v1/health: 200 while the database answers, 503 while it does not, and recovery."""

from scheduler_common.testing import answer_once_recovered


def test_health_reports_database_ok(client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_needs_no_login(anonymous_client):
    response = anonymous_client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_is_503_problem_while_database_is_down_and_recovers(client, app, database_outage):
    app.extensions["scheduler_db_pool"].timeout = 0.5
    assert client.get("/api/v1/health").status_code == 200

    with database_outage():
        response = client.get("/api/v1/health")
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"]
        body = response.get_json()
        assert body["status"] == 503
        assert "database" in body["detail"]

    assert answer_once_recovered(client, "/api/v1/health").status_code == 200
