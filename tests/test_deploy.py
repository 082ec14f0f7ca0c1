"""The production front in deploy/: the nginx site and the systemd units say what the README and issue 11 promise.

These read the files; bench/front_check.py (run by .ci/run) runs the site under load. With nginx
installed, `nginx -t` also checks the site as bench/front_check.py runs it."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.front_servers import NGINX, main_conf, render_site

ROOT = Path(__file__).resolve().parent.parent
SITE = (ROOT / "deploy" / "nginx" / "fangang.conf").read_text()
DIRECTIVES = "\n".join(line.split("#", 1)[0] for line in SITE.splitlines())  # comments left out
REQUEST_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def named_locations():
    """{name: body} of every `location @name { ... }`."""
    return dict(re.findall(r"location (?:@|= /\.fangang-error/)(\w+) \{(.*?)\n    \}", DIRECTIVES, re.S))


def map_values(variable):
    """The values a `map ... $variable { }` can take."""
    block = re.search(r"map \$\w+ \$" + variable + r" \{(.*?)\}", DIRECTIVES, re.S).group(1)
    return [line.split(None, 1)[1].rstrip(";").strip().strip('"') for line in block.strip().splitlines()]


def answers():
    """Every body nginx can answer with, variables filled in: [(location, status, body, headers)]."""
    out = []
    for name, body in named_locations().items():
        status, text = re.search(r"return (\d{3}) '(.*)';", body).groups()
        headers = dict(re.findall(r"add_header ([\w-]+) (\S+) always;", body))
        variants = [text]
        for variable in ("fangang_502_code", "fangang_502_message"):
            if f"${variable}" in text:
                variants = [v.replace(f"${variable}", value) for v in variants for value in map_values(variable)]
        out += [(name, int(status), v.replace("$request_id", REQUEST_ID), headers) for v in variants]
    return out


def test_every_error_nginx_makes_is_the_apps_json_shape_in_chinese():
    assert len(answers()) >= 7
    for name, status, body, headers in answers():
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message", "request_id"}, name
        assert re.fullmatch(r"[a-z_]+", error["code"]) and not error["message"].isascii(), name
        assert error["request_id"] == REQUEST_ID and headers["X-Request-Id"] == "$request_id", name
        assert status != 503 or "Retry-After" in headers, name


def test_overload_and_outage_codes_are_told_apart():
    assert set(map_values("fangang_502_code")) == {"overloaded", "unavailable"}
    assert {code for _, status, body, _ in answers() if status == 503 for code in [json.loads(body)["error"]["code"]]} \
        == {"overloaded", "unavailable"}


@pytest.mark.parametrize("status", [400, 413, 414, 500, 502, 503, 504])
def test_every_error_nginx_can_make_has_a_page(status):
    assert re.search(rf"error_page [\d ]*\b{status}\b[\d =]*(@\w+|/\.fangang-error/\d+);", DIRECTIVES)


def test_limits_timeouts_buffering_and_stamps_are_set():
    for directive in ("server_tokens off;", "limit_conn_status 503;", "limit_req_status 503;",
                      "proxy_request_buffering on;", "proxy_buffering on;", "client_header_timeout 10s;",
                      "client_body_timeout 10s;", "send_timeout 10s;", "keepalive_timeout 15s;",
                      "client_max_body_size 1m;", 'proxy_set_header X-Request-Start "t=${msec}";',
                      "proxy_set_header X-Request-Id $request_id;", "proxy_set_header X-Forwarded-For $remote_addr;"):
        assert directive in DIRECTIVES, directive
    zones = re.findall(r"limit_(conn|req)_zone\s+\$(\w+) zone=(\w+)", DIRECTIVES)
    assert {(kind, key) for kind, key, _ in zones} == {("conn", "binary_remote_addr"), ("req", "binary_remote_addr"),
                                                       ("conn", "server_name"), ("req", "server_name")}
    for _, _, zone in zones:  # every zone is used
        assert re.search(rf"limit_(conn {zone} \d+|req zone={zone} )", DIRECTIVES), zone
    assert re.search(r"server unix:\S+ max_conns=\d+;", DIRECTIVES)


def test_serves_nothing_but_the_app():
    for forbidden in ("root ", "alias ", "autoindex", "index ", "try_files", "proxy_intercept_errors on"):
        assert forbidden not in DIRECTIVES, forbidden
    assert re.findall(r"proxy_pass (\S+);", DIRECTIVES) == ["http://fangang_app"]
    assert DIRECTIVES.count("default_server") == 4  # both servers take every host name: no other site answers


def test_access_log_has_the_request_id_and_no_query_string():
    log_format = re.search(r"log_format fangang (.*?);", DIRECTIVES, re.S).group(1)
    assert "$request_id" in log_format and "$uri" in log_format
    assert not re.search(r"\$(request_uri|args|query_string|request)\b", log_format)
    assert "escape=none" not in log_format


@pytest.mark.skipif(not shutil.which(NGINX), reason="nginx is not installed (apt-get install -y nginx-light)")
def test_nginx_accepts_the_site_as_the_front_check_runs_it(tmp_path):
    site = tmp_path / "fangang.conf"
    site.write_text(render_site(18443, 18080, tmp_path / "gunicorn.sock", tmp_path))
    (tmp_path / "nginx.conf").write_text(main_conf(tmp_path, site))
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                             "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- systemd units -----------------------------------------------------------------------------------

UNITS = ROOT / "deploy" / "systemd"


def unit(name):
    """{(section, key): value} of a unit file (keys may repeat; the last wins, enough here)."""
    section, values = None, {}
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[(section, key.strip())] = value.strip()
    return values


def test_gunicorn_serves_only_on_the_socket_nginx_proxies_to():
    socket_unit, service = unit("fangang.socket"), unit("fangang.service")
    upstream = re.search(r"server unix:(\S+) ", DIRECTIVES).group(1)
    assert socket_unit[("Socket", "ListenStream")] == upstream
    assert (socket_unit[("Socket", "SocketGroup")], socket_unit[("Socket", "SocketMode")]) == ("www-data", "0660")
    assert service[("Unit", "Requires")] == "fangang.socket" and service[("Service", "Type")] == "notify"
    command = service[("Service", "ExecStart")]
    assert command.endswith("gunicorn --config gunicorn.conf.py wsgi:app") and "--bind" not in command
    assert service[("Service", "User")] != "root"


def test_purge_expired_runs_daily_from_a_timer():
    timer, job = unit("fangang-purge-expired.timer"), unit("fangang-purge-expired.service")
    assert timer[("Timer", "OnCalendar")].startswith("*-*-* ") and timer[("Timer", "Persistent")] == "true"
    assert job[("Service", "Type")] == "oneshot"
    assert job[("Service", "ExecStart")].endswith("flask --app wsgi purge-expired")
    assert job[("Service", "EnvironmentFile")] == unit("fangang.service")[("Service", "EnvironmentFile")]


def test_environment_example_names_only_known_settings():
    from app.config import from_environment

    known = {"DATABASE_URL", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT"} | set(from_environment())
    names = [line.split("=", 1)[0] for line in (ROOT / "deploy" / "fangang.env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    assert "PROXY_COUNT" in names and "QUEUE_BUDGET_MS" in names
    assert set(names) <= known, set(names) - known


def test_nginx_answers_before_gunicorns_html_limits_and_timeout():
    import runpy

    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    buffer_kib = int(re.search(r"large_client_header_buffers \d+ (\d+)k;", DIRECTIVES).group(1))
    assert buffer_kib * 1024 <= 4096  # gunicorn's limit_request_line: 4094 bytes and the CRLF
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", DIRECTIVES).group(1))
    assert read_timeout < gunicorn["timeout"]
