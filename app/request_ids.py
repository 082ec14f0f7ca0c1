"""One id per request, shared by the access logs (nginx's and gunicorn's), the JSON error and the X-Request-Id header.

Behind the production front (deploy/nginx/fangang.conf) nginx sends its own `$request_id` as
X-Request-Id, so its log line, gunicorn's and the client's error answer carry the same id. Without
nginx the app makes one. A client-sent id is kept only if it looks like an id: it reaches the logs.
"""
import re
import uuid

from flask import has_request_context, request

HEADER = "X-Request-Id"
_ENVIRON_KEY = "fangang.request_id"
# nginx's $request_id is 32 hex digits; allow other proxies' UUIDs too, nothing that could break a log line.
_WELL_FORMED = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{7,63}")


def request_id():
    """The current request's id (nginx's if well-formed, else made here), or None outside a request."""
    if not has_request_context():
        return None
    # Kept in the WSGI environ, which belongs to this request alone (`g` lives as long as the app
    # context, which a test or CLI may keep across requests).
    current = request.environ.get(_ENVIRON_KEY)
    if current is None:
        sent = request.headers.get(HEADER, "")
        current = sent if _WELL_FORMED.fullmatch(sent) else uuid.uuid4().hex
        request.environ[_ENVIRON_KEY] = current
    return current


def register_request_ids(app):
    """Answer every request with its id in X-Request-Id (gunicorn's access log reads it from there)."""

    @app.after_request
    def _stamp(response):
        response.headers[HEADER] = request_id()
        return response
