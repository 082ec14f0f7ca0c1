"""Schemathesis over /openapi.json: generated requests, valid and invalid, never get a 5xx."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from app.models.transport import KEY_PURPOSES
from app.services.credentials import signing
from tests.builders import application, make_staff, make_worker

MAX_EXAMPLES = 25


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_one_error_shape(app, client, mode):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # A deployment has its keys (`flask keys ensure` at start): without one the trust list is a deliberate 503.
    for purpose in KEY_PURPOSES:
        signing.ensure_key(purpose)
    headers = make_worker(client)
    # One real application, so item routes have something to find as well as to miss.
    existing = client.post("/api/mp/v1/applications", json=application(), headers=headers).json["id"]
    staff_headers = make_staff(client, "fuzz-admin", role="admin")
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        path_parameters = {"application_id": existing} if "{application_id}" in operation.path else None
        caller = staff_headers if operation.path.startswith("/api/console/") else headers

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        def check(case):
            response = case.call(headers={**(case.headers or {}), **caller})
            assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] and error["message"], response.text

        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): only positive cases exist.
            assert mode is GenerationMode.NEGATIVE
            continue
        seen += 1
    assert seen >= (25 if mode is GenerationMode.POSITIVE else 15)
