"""Checks every request passes before a handler sees it."""
import json

from flask import request
from flask.sessions import SessionInterface

from app.errors import DomainError


def register_request_guards(app):
    """Refuse JSON bodies Python cannot parse safely (deep nesting, giant numbers) with a 400."""

    @app.before_request
    def _parseable_json():
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
