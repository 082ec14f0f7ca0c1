"""gunicorn's own answers (a request it refuses, a worker it aborts) come in the JSON error shape, not HTML."""
import base64
import json
import os
import socket
import time

import pytest

import gunicorn_errors
from app.errors import _STATUS_DEFAULTS
from tests.faults import stack


def raw_request(port, data, timeout=60):
    """Send raw bytes; return (status, headers, parsed JSON body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn (gunicorn.conf.py) in front of a database that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WECHAT_", "DB_", "REDIS_", "REQUEST_", "GUNICORN_"))}
    env.update({
        "APP_ENV": "development", "DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DATABASE_URL": f"mysql+pymysql://root@127.0.0.1:{listener.getsockname()[1]}/x?charset=utf8mb4",
        # Only a connect so slow outlives gunicorn's timeout (a statement would meet the deadline first).
        "DB_CONNECT_TIMEOUT": "120", "GUNICORN_TIMEOUT": "12", "REQUEST_DEADLINE_SECONDS": "5",
        "RETRY_AFTER_SECONDS": "9", "PYTHONUNBUFFERED": "1",
    })
    server = stack.Gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log", ready=("/nowhere", 404))
    server.start()
    yield server
    server.stop()
    listener.close()


@pytest.mark.parametrize("request_bytes, status, code", [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "headers_too_large"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400, "bad_request"),
    (b"NOT-HTTP\r\n\r\n", 400, "bad_request"),
])
def test_requests_gunicorn_refuses_get_the_json_error_shape(served, request_bytes, status, code):
    answer, headers, body = raw_request(served.port, request_bytes)
    assert answer == status and headers["Content-Type"] == "application/json"
    assert body == {"error": {"code": code, "message": gunicorn_errors.CODES[status][1]}}


def test_a_worker_aborted_on_gunicorns_timeout_answers_json_503_with_retry_after(served):
    started = time.monotonic()
    status, headers, body = raw_request(served.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    took = time.monotonic() - started
    assert status == 503 and headers["Retry-After"] == "9" and 11 <= took < 40
    assert body["error"]["code"] == "unavailable"


def test_gunicorn_codes_are_the_apps_for_the_same_status():
    for status, code_and_message in gunicorn_errors.CODES.items():
        if status in _STATUS_DEFAULTS:
            assert _STATUS_DEFAULTS[status] == code_and_message, status
