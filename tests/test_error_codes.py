"""The list of error codes stays complete: README's table = app/error_codes.py = the codes the source raises."""
import ast
import pathlib
import re

import gunicorn_errors
from app import error_codes, errors
from tests.test_errors import assert_error

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("app", "checkin", "console", "miniprogram_api")
_ERROR_CLASSES = {name for name, value in vars(errors).items()
                  if isinstance(value, type) and issubclass(value, errors.DomainError)}
FIX = "add it to app/error_codes.py, then paste `.venv/bin/flask --app wsgi errors` into README"


def _constant(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def raised_codes():
    """{code: {statuses}} for every code the source raises: DomainError(code, …) and its kinds,
    (ErrorClass, code, message) tables, scope.get_in_scope(…, code, …), and errors.py's HTTP defaults."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                code, cls = None, None
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                    if node.func.id in _ERROR_CLASSES:
                        code, cls = _constant(node.args[0]), node.func.id
                    elif node.func.id == "get_in_scope" and len(node.args) > 3:
                        code, cls = _constant(node.args[3]), "NotFound"
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id == "error_response" and len(node.args) > 1:
                    code, status = _constant(node.args[1]), getattr(node.args[0], "value", None)
                    if isinstance(code, str) and isinstance(status, int):
                        found.setdefault(code, set()).add(status)
                    continue
                elif isinstance(node, ast.Tuple) and len(node.elts) > 1 and isinstance(node.elts[0], ast.Name) \
                        and node.elts[0].id in _ERROR_CLASSES:
                    code, cls = _constant(node.elts[1]), node.elts[0].id
                if code is None:
                    continue
                status = getattr(errors, cls).status
                for keyword in getattr(node, "keywords", ()):
                    if keyword.arg == "status" and isinstance(keyword.value, ast.Constant):
                        status = keyword.value.value
                found.setdefault(code, set()).add(status)
    for status, (code, _) in errors._STATUS_DEFAULTS.items():
        found.setdefault(code, set()).add(status)
    # gunicorn's and nginx's own answers, before the app sees a request.
    for status, (code, _) in gunicorn_errors.CODES.items():
        found.setdefault(code, set()).add(status)
    nginx = (ROOT / "deploy/nginx/fangang.conf").read_text(encoding="utf-8")
    for status, code in re.findall(r'return (\d{3}) \'\{"error": \{"code": "([a-z_]+)"', nginx):
        found.setdefault(code, set()).add(int(status))
    found.setdefault("http_error", set()).add(400)  # errors.py's answer for any other HTTP status
    return found


def test_every_raised_code_is_registered_and_every_registered_code_is_raised():
    raised = raised_codes()
    assert len(raised) > 60  # the walk found the raise sites
    missing = sorted(set(raised) - set(error_codes.CODES))
    assert not missing, f"codes raised but not registered: {missing}: {FIX}"
    stale = sorted(set(error_codes.CODES) - set(raised))
    assert not stale, f"codes registered but raised nowhere: {stale}"


def test_registered_status_is_the_one_raised():
    for code, statuses in raised_codes().items():
        if code != "http_error":
            assert error_codes.CODES[code][0] in statuses, (code, statuses)


def test_http_defaults_say_what_the_registry_says():
    for code, message in errors._STATUS_DEFAULTS.values():
        assert error_codes.message(code) == message, code


def test_every_meaning_is_chinese():
    for code, (status, meaning) in error_codes.CODES.items():
        assert re.fullmatch(r"[a-z][a-z_]+", code) and 400 <= status < 600
        assert re.search(r"[\u4e00-\u9fff]", meaning), code


def test_readme_lists_exactly_the_registered_codes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- error-codes:start[^\n]*-->\n(.*?)\n<!-- error-codes:end -->", readme, re.S)
    assert block, "README lost its error-code table markers"
    assert block.group(1) == error_codes.readme_table(), f"README's error-code table is out of date: {FIX}"
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", block.group(1), re.M))
    assert listed == set(error_codes.CODES)
    # The codes the README was found missing (issue 11) are listed.
    assert {"bad_request", "payload_too_large", "method_not_allowed", "dev_code_invalid", "invalid_credentials",
            "not_a_scanner", "trip_not_found"} <= listed


def test_flask_errors_prints_the_table(app):
    result = app.test_cli_runner().invoke(args=["errors"])
    assert result.exit_code == 0
    assert result.output.strip() == error_codes.readme_table()


def test_body_without_json_content_type_says_it_was_not_read_as_json(client):
    # curl -d without -H 'Content-Type: application/json' sends a form type.
    response = client.post("/api/mp/v1/session", data='{"code": "dev:zhangsan"}',
                           content_type="application/x-www-form-urlencoded")
    error = assert_error(response, 415, "body_not_json")
    assert "Content-Type: application/json" in error["message"] and "fields" not in error
    response = client.post("/api/console/v1/session", data='{"username": "a", "password": "b"}',
                           content_type="text/plain")
    assert_error(response, 415, "body_not_json")


def test_empty_body_without_content_type_is_still_judged_by_its_fields(client):
    # No body at all (curl -X POST with no -d): nothing was left unread, so the fields speak.
    response = client.post("/api/mp/v1/session")
    assert response.status_code == 422 and response.json["error"]["code"] == "validation_error"
