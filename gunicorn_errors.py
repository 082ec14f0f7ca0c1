"""gunicorn's own error answers in the app's JSON error shape, instead of its HTML pages.

gunicorn answers some requests before the app sees them: a request line or header too long
(414, 431) or malformed (400), and the request of a worker it aborts after GUNICORN_TIMEOUT
(a 500, which should not happen: the app's deadline comes first, see app/deadline.py). It has
no setting for these pages; every one goes through `gunicorn.util.write_error` (called only from
`Worker.handle_error`), which `install()` replaces. Loaded by gunicorn.conf.py in the arbiter,
before workers fork; it imports nothing of the app. tests/test_gunicorn_errors.py pins this.
"""
import json
import os

from gunicorn import util

# The codes and messages of app/errors.py for the same statuses (the test compares them).
CODES = {
    400: ("bad_request", "请求格式有误"),
    403: ("forbidden", "无权进行此操作"),
    414: ("uri_too_long", "请求地址过长"),
    417: ("expectation_failed", "不支持该 Expect 请求头"),
    431: ("headers_too_large", "请求头过大"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    501: ("not_implemented", "不支持该传输编码"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}
_aborted = False


def install():
    """Make gunicorn write its error answers with `write_json_error`."""
    util.write_error = write_json_error


def worker_aborted():
    """For gunicorn's worker_abort hook: the request this worker was serving is answered 503, not 500."""
    global _aborted
    _aborted = True


def write_json_error(sock, status_int, reason, mesg):
    """Write one of gunicorn's error answers as {"error": {"code", "message"}} (503 with Retry-After).

    `mesg` (gunicorn's detail, which quotes the request) is not echoed back.
    """
    if _aborted and status_int == 500:
        status_int, reason = 503, "Service Unavailable"
    code, message = CODES.get(status_int, ("http_error", "请求无法处理"))
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    head = [f"HTTP/1.1 {status_int} {reason}", "Connection: close", "Content-Type: application/json",
            f"Content-Length: {len(body)}"]
    if status_int == 503:
        head.append(f"Retry-After: {os.environ.get('RETRY_AFTER_SECONDS') or 5}")
    util.write_nonblock(sock, ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
