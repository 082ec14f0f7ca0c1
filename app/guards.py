"""Checks every request passes before a handler sees it."""
import json

from flask import request

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
