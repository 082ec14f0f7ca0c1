"""One JSON error shape for everything that can go wrong; never an HTML page."""
import pytest

from tests.builders import login


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    error = response.json["error"]
    assert error["code"] == code
    assert error["message"] and not error["message"].isascii()  # said in Chinese
    return error


def test_unknown_route_is_json_404(client):
    assert_error(client.get("/api/mp/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    assert_error(client.patch("/api/mp/v1/session", json={}), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "data, content_type",
    [("{not json", "application/json"), ("", "application/json"), ("code=dev:a", "application/x-www-form-urlencoded")],
)
def test_malformed_bodies_are_json_errors(client, data, content_type):
    response = client.post("/api/mp/v1/session", data=data, content_type=content_type)
    assert response.status_code in (400, 415, 422)
    assert response.is_json and "code" in response.json["error"]


def test_body_that_is_not_an_object_is_422(client):
    headers = login(client)
    response = client.put("/api/mp/v1/me", json=["name", "张三"], headers=headers)
    error = assert_error(response, 422, "validation_error")
    assert error["fields"]


def test_unexpected_exception_is_json_500_without_details(make_app, monkeypatch):
    app = make_app()
    from app.services.people import privacy

    def explode():
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(privacy, "notice", explode)
    with app.app_context():
        response = app.test_client().get("/api/mp/v1/privacy-notice")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "fields" not in error
