"""Checks every request passes before a handler sees it."""
import json

from flask import request
from flask.sessions import SessionInterface

from app import error_codes
from app.errors import DomainError


_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def register_request_guards(app):
    """Refuse API bodies not sent as JSON (415), and JSON Python cannot parse safely (400)."""

    @app.before_request
    def _parseable_json():
        if not request.path.startswith("/api/"):
            return  # the console's pages post HTML forms
        if request.method in _BODY_METHODS and request.content_length and not request.is_json:
            # Without the header the body is never read, and every required field would be
            # reported missing ("必填"), which sends the caller looking in the wrong place.
            raise DomainError("body_not_json", error_codes.message("body_not_json"), status=415)
        if request.is_json and request.content_length:
            try:
                json.loads(request.get_data(cache=True))
            except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
                raise DomainError("bad_request", "请求体不是合法的 JSON") from None


class NoCookieSession(SessionInterface):
    """Callers authenticate with bearer tokens: no request opens a cookie session and no response sets one.

    Flask would otherwise build a signing serializer for every request to look for a cookie
    nobody sends; writing to `flask.session` now fails loudly instead of setting a cookie.
    """

    def open_session(self, app, request):
        """A null session, whatever cookie came."""
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        """Nothing to save."""
        return None
