"""Access logs cannot be forged: gunicorn, run with the repository's gunicorn.conf.py, sent raw requests.

gunicorn 27 already refuses raw control bytes in the request line and in header values (400,
logged escaped in its error log), but writes the percent-decoded path as it is: `%0A` was a newline
in the access log. app/access_log.py escapes it.
"""
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.access_log import escape
from app.crypto import generate_key

ROOT = Path(__file__).resolve().parent.parent
ACCESS_LINE = re.compile(r'^127\.0\.0\.1 "GET [^"]* HTTP/1\.1" \d{3} \d+ \d+ms rid=([0-9a-f]{32})$')
FORGED = "127.0.0.1 \"GET /admin HTTP/1.1\" 200 0 1ms"


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn with gunicorn.conf.py on a free loopback port (SQLite); yields (port, path of its output)."""
    workdir = tmp_path_factory.mktemp("gunicorn")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{workdir}/log.db",
           "DATA_KEY": generate_key(), "WEB_CONCURRENCY": "1"}
    env.pop("REDIS_URL", None)
    output = workdir / "gunicorn.log"
    with open(output, "w") as log:
        process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py",
                                    "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Booting worker" not in output.read_text():
            assert process.poll() is None and time.monotonic() < deadline, output.read_text()
            time.sleep(0.1)
        yield port, output
    finally:
        process.terminate()
        process.wait(15)


def raw_request(port, request_bytes):
    """Send bytes as they are; return (status, headers) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request_bytes)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), {name.lower(): value for name, value in headers.items()}


def access_lines(output):
    return [line for line in output.read_text().splitlines() if " rid=" in line]


def test_forged_newline_and_control_characters_stay_on_one_escaped_line(gunicorn):
    port, output = gunicorn
    before = len(access_lines(output))
    paths = [
        "/healthz%0A" + FORGED.replace(" ", "%20").replace('"', "%22"),  # a whole fake line
        "/a%0D%0A%0D%0Ab",  # CR LF
        "/a%1B[2J%1B[31mred%00%7Fb",  # terminal escapes, NUL, DEL
        "/a%22b%5Cc",  # a quote would end the field; a backslash would fake an escape
        "/%E4%B8%AD%E6%96%87",  # UTF-8 (中文): bytes, escaped like nginx does
    ]
    answers = []
    for path in paths:
        status, headers = raw_request(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answers.append((status, headers["x-request-id"]))
    time.sleep(0.5)
    lines = access_lines(output)[before:]
    assert len(lines) == len(paths), lines  # one line per request, none added
    for line, (status, rid) in zip(lines, answers):
        match = ACCESS_LINE.match(line)
        assert match and match.group(1) == rid and f'" {status} ' in line, line
    assert not any(line.startswith('127.0.0.1 "GET /admin') for line in output.read_text().splitlines())
    text = "\n".join(lines)
    for escaped in ("\\x0A", "\\x0D", "\\x1B", "\\x00", "\\x7F", "\\x22", "\\x5C", "\\xE4\\xB8\\xAD"):
        assert escaped in text, escaped


def test_client_request_id_that_is_not_an_id_is_not_logged(gunicorn):
    port, output = gunicorn
    before = len(access_lines(output))
    _, headers = raw_request(port, b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Request-Id: 1 2 3 fake=line\r\n"
                                   b"Connection: close\r\n\r\n")
    _, kept = raw_request(port, b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Request-Id: 0123456789abcdef0123456789abcdef"
                                b"\r\nConnection: close\r\n\r\n")
    time.sleep(0.5)
    lines = access_lines(output)[before:]
    assert "fake=line" not in "\n".join(lines) and headers["x-request-id"] in lines[0]
    assert kept["x-request-id"] == "0123456789abcdef0123456789abcdef" and kept["x-request-id"] in lines[1]


def test_raw_control_bytes_are_refused_by_gunicorn_before_any_access_line(gunicorn):
    port, output = gunicorn
    before = len(access_lines(output))
    status, _ = raw_request(port, b"GET /a\x1b[31mb HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400
    time.sleep(0.3)
    assert len(access_lines(output)) == before
    assert "\x1b" not in output.read_text()


@pytest.mark.parametrize("raw, logged", [
    ("plain /path-ok_1.2", "plain /path-ok_1.2"),
    ("a\nb\r\tc", "a\\x0Ab\\x0D\\x09c"),
    ('say "hi" \\ bye', "say \\x22hi\\x22 \\x5C bye"),
    ("\x00\x1f\x7f\x80\xff", "\\x00\\x1F\\x7F\\x80\\xFF"),
    ("\u2028", "\\u2028"),
    ("", "-"),
])
def test_escape(raw, logged):
    assert escape(raw) == logged
