"""Domain errors and the one JSON error shape: {"error": {"code", "message", "fields"}}."""
import logging
import re

import redis
import sqlalchemy.exc
from flask import current_app, jsonify, request

from app.extensions import db
from app.request_ids import request_id

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule was broken; `code` is machine-readable, `message` is Chinese for the user."""

    status = 400

    def __init__(self, code, message, fields=None, status=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields
        # Machine-readable facts the client acts on (a count to confirm, seconds to wait), beside the message.
        self.details = details
        self.headers = headers
        if status is not None:
            self.status = status


class Invalid(DomainError):
    """Input that is well-formed but not acceptable (422)."""

    status = 422


class NotFound(DomainError):
    """The object does not exist or the caller may not see it (404)."""

    status = 404


class Forbidden(DomainError):
    """The caller is known but may not do this (403)."""

    status = 403


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    status = 409


class Unauthorized(DomainError):
    """No valid credentials (401)."""

    status = 401


class Unavailable(DomainError):
    """A service we depend on is down or busy (503)."""

    status = 503


_STATUS_DEFAULTS = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "未找到该资源"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与当前状态冲突"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请以 JSON 格式提交"),
    422: ("validation_error", "请求参数有误，请检查各字段"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}

# marshmallow's built-in messages, said in Chinese. Messages we write ourselves are Chinese already.
_MESSAGES = {
    "Missing data for required field.": "必填",
    "Unknown field.": "不允许的字段",
    "Field may not be null.": "不能为空",
    "Not a valid string.": "应为字符串",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid date.": "应为日期，格式 YYYY-MM-DD",
    "Not a valid datetime.": "应为时间，格式 ISO 8601",
    "Not a valid time.": "应为时刻，格式 HH:MM",
    "Not a valid list.": "应为数组",
    "Not a valid mapping type.": "应为对象",
    "Not a valid UUID.": "应为 UUID",
    "Invalid input type.": "应为 JSON 对象",
    "Invalid value.": "取值无效",
    "Shorter than minimum length 1.": "不能为空",
    "Special numeric values (nan or infinity) are not permitted.": "应为有限数字",
    "Invalid JSON body.": "请求体不是合法的 JSON",
}
_PATTERNS = [
    (re.compile(r"^Must be one of: (.*)\.$"), "应为以下之一：{0}"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "长度应在 {0} 到 {1} 之间"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "长度至少为 {0}"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "长度最多为 {0}"),
    (
        re.compile(r"^Must be greater than or equal to (.+) and less than or equal to (.+)\.$"),
        "应在 {0} 到 {1} 之间",
    ),
    (re.compile(r"^Must be greater than or equal to (.+)\.$"), "应不小于 {0}"),
    (re.compile(r"^Must be less than or equal to (.+)\.$"), "应不大于 {0}"),
    (re.compile(r"^String does not match expected pattern\.$"), "格式不正确"),
    (re.compile(r"^Number too large\.$"), "数字过大"),
]


def chinese(message):
    """Say a validation message in Chinese when it is one of marshmallow's own."""
    if message in _MESSAGES:
        return _MESSAGES[message]
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return message


def flatten_fields(detail, prefix=""):
    """Turn marshmallow's nested error detail into {"a.b": "message; message"}."""
    out = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            if key == "_schema":
                name = prefix or "_body"
            out.update(flatten_fields(value, name))
    elif isinstance(detail, list) and all(isinstance(item, str) for item in detail):
        out[prefix or "_body"] = "；".join(chinese(item) for item in detail)
    elif isinstance(detail, list):
        for item in detail:
            out.update(flatten_fields(item, prefix))
    else:
        out[prefix or "_body"] = chinese(str(detail))
    return out


def error_response(status, code, message, fields=None, headers=None, details=None):
    """Build the JSON error response every face uses."""
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if details:
        body["details"] = details
    # The id the access logs carry, so a user's screenshot of an error leads to its log lines.
    rid = request_id()
    if rid:
        body["request_id"] = rid
    response = jsonify({"error": body})
    response.status_code = status
    if headers:
        response.headers.extend(headers)
    if status == 503 and "Retry-After" not in response.headers:
        # Scanners fall back to offline mode on a 503 and retry after this many seconds.
        response.headers["Retry-After"] = str(current_app.config.get("RETRY_AFTER_SECONDS", 5))
    return response


WRITE_CONFLICT_MESSAGE = "数据写入冲突，请稍后重试"


def _is_write_conflict(error):
    """MariaDB 1213 (deadlock, Galera's certification failure); `app.conflicts` retries it in views."""
    args = getattr(getattr(error, "orig", None), "args", None)
    return bool(args) and args[0] == 1213


def _html_page_for(path):
    """The error-page renderer a web face registered for this path (app.extensions["html_error_pages"]), or None."""
    for prefix, page in current_app.extensions.get("html_error_pages", ()):
        if path == prefix or path.startswith(prefix + "/"):
            return page
    return None


def register_error_handlers(app):
    """Make every error, expected or not, answer in the one JSON shape."""

    @app.errorhandler(DomainError)
    def _domain_error(error):
        db.session.rollback()
        return error_response(error.status, error.code, error.message, error.fields, error.headers, error.details)

    @app.error_processor
    def _http_error(error):
        db.session.rollback()
        page = _html_page_for(request.path)
        if page is not None:  # a web face's URL (the console's pages), not the API
            return page(error.status_code, "http_error", None)
        code, message = _STATUS_DEFAULTS.get(error.status_code, ("http_error", "请求无法处理"))
        extra = error.extra_data or {}
        code = extra.get("code", code)
        message = extra.get("message_zh", message)
        fields = None
        if isinstance(error.detail, dict) and error.detail:
            fields = {}
            for location in error.detail.values():
                fields.update(flatten_fields(location))
        return error_response(error.status_code, code, message, fields, error.headers)

    @app.errorhandler(redis.RedisError)
    @app.errorhandler(sqlalchemy.exc.OperationalError)
    def _backend_down(error):
        db.session.rollback()
        if _is_write_conflict(error):  # outside a view's retries (app.conflicts): a before_request hook's
            log.warning("write conflict outside a view: not run again")
            return error_response(503, "write_conflict", WRITE_CONFLICT_MESSAGE)
        log.error("backing service unavailable: %s", type(error).__name__)
        code, message = _STATUS_DEFAULTS[503]
        return error_response(503, code, message)

    @app.errorhandler(Exception)
    def _unexpected(error):
        db.session.rollback()
        log.exception("unhandled error")
        code, message = _STATUS_DEFAULTS[500]
        return error_response(500, code, message)
