"""The WeChat mini-program API, through wechatpy (`client.wxa`).

The access token wechatpy fetches is cached in Redis (RedisStorage) when REDIS_URL is
set, so every gunicorn host shares one; in process memory otherwise, and while Redis is down.
WeChat's answers become domain errors; session_key is never logged or returned.
"""
import logging
import re

import requests
from flask import current_app
from redis import RedisError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from app.errors import Invalid, Unauthorized, Unavailable

log = logging.getLogger(__name__)

_DEV_CODE = re.compile(r"^dev:([A-Za-z0-9_-]{1,32})$")

# errcode → (our error class, code, message)
_ERRORS = {
    40029: (Unauthorized, "wechat_code_invalid", "微信登录凭证无效或已过期，请重新进入小程序"),
    40163: (Unauthorized, "wechat_code_used", "微信登录凭证已被使用，请重新进入小程序"),
    45011: (Unavailable, "wechat_rate_limited", "微信登录过于频繁，请稍后再试"),
    -1: (Unavailable, "wechat_busy", "微信服务繁忙，请稍后再试"),
}


class WeChatSession:
    """What jscode2session gives back for a login code."""

    __slots__ = ("openid", "session_key", "unionid")

    def __init__(self, openid, session_key, unionid=None):
        self.openid = openid
        self.session_key = session_key
        self.unionid = unionid

    def __repr__(self):
        return f"WeChatSession(openid={self.openid!r})"


class TokenStorage(SessionStorage):
    """wechatpy's storage: Redis, shared by every host; this process's memory while Redis is unreachable.

    Without it a Redis outage stopped every WeChat login (503). A token fetched meanwhile is
    this process's own; WeChat keeps the previous one valid for five minutes after a refresh.
    """

    def __init__(self, redis_client, prefix):
        self._shared = RedisStorage(redis_client, prefix=prefix)
        self._local = MemoryStorage()

    def get(self, key, default=None):
        """The stored value, from Redis or, if it is unreachable, from this process."""
        try:
            return self._shared.get(key, default)
        except RedisError:
            return self._local.get(key, default)

    def set(self, key, value, ttl=None):
        """Store in Redis, or in this process if Redis is unreachable."""
        try:
            self._shared.set(key, value, ttl)
        except RedisError:
            self._local.set(key, value, ttl)

    def delete(self, key):
        """Forget the value in both places."""
        self._local.delete(key)
        try:
            self._shared.delete(key)
        except RedisError:
            pass


def init_app(app):
    """Build one wechatpy client per app when WeChat is configured."""
    app_id, secret = app.config.get("WECHAT_APP_ID"), app.config.get("WECHAT_APP_SECRET")
    if not (app_id and secret):
        app.extensions["wechat"] = None
        return
    redis_client = app.extensions.get("redis")
    storage = (
        TokenStorage(redis_client, prefix=f"{app.config['RATELIMIT_KEY_PREFIX']}:wechatpy")
        if redis_client is not None
        else MemoryStorage()
    )
    app.extensions["wechat"] = WeChatClient(
        app_id, secret, session=storage, timeout=app.config["WECHAT_TIMEOUT"]
    )


def dev_login_enabled():
    """`dev:<name>` codes work only when WeChat is unconfigured and not in production."""
    return current_app.extensions.get("wechat") is None and current_app.config["APP_ENV"] != "production"


def code_to_session(code):
    """Exchange a wx.login() code for the worker's openid and session key.

    Raises Unauthorized for a bad code, Unavailable when WeChat is busy or unreachable.
    """
    client = current_app.extensions.get("wechat")
    if client is None:
        match = _DEV_CODE.match(code)
        if match and dev_login_enabled():
            return WeChatSession(openid=f"dev-{match.group(1)}", session_key=None)
        if current_app.config["APP_ENV"] == "production":
            raise Unavailable("wechat_not_configured", "微信登录未配置")
        raise Invalid("dev_code_invalid", "未配置微信时，请用 dev:<名字> 形式的测试登录码",
                      fields={"code": "应为 dev:<名字>，名字为字母、数字、_ 或 -"})
    try:
        result = client.wxa.code_to_session(code)
    except WeChatClientException as error:
        errcode = error.errcode
        log.warning("jscode2session refused: errcode=%s", errcode)
        kind, reason, message = _ERRORS.get(
            errcode, (Unavailable, "wechat_error", "微信登录失败，请稍后再试")
        )
        raise kind(reason, message) from None
    except requests.RequestException as error:
        log.warning("jscode2session unreachable: %s", type(error).__name__)
        raise Unavailable("wechat_unreachable", "无法连接微信服务，请稍后再试") from None
    openid = result.get("openid") if isinstance(result, dict) else None
    if not openid:
        raise Unavailable("wechat_error", "微信登录失败，请稍后再试")
    return WeChatSession(openid, result.get("session_key"), result.get("unionid"))
