"""The WeChat mini-program API, through wechatpy (`client.wxa`).

The access token is cached in Redis (RedisStorage) when Redis is configured (REDIS_URL, or REDIS_SENTINELS:
through Sentinel, following a failover), so every gunicorn host
and the sender share one; in process memory otherwise, and while Redis is down. It is fetched from
the `stable_token` endpoint with force_refresh=false, which answers every caller with the same token
while it is valid: a host that refreshes does not invalidate the token the others hold (the plain
`cgi-bin/token` wechatpy uses does). A lock (Redis, and one per process) lets one caller fetch while
the others wait and then read what it stored. A call WeChat answers with 40001/40014/42001 (token
invalid or expired) takes a newer stored token, or fetches one, and is tried once more; when stable_token
answers with the very token WeChat refused, it is asked once with force_refresh=true. A token is used
until its expires_in runs out: stable_token (force_refresh=false) gives the same token until then, so
fetching earlier would only repeat the call.
WeChat's answers become domain errors; session_key is never logged or returned.
"""
import logging
import re
import threading
import time
from contextlib import contextmanager

import requests
from flask import current_app
from redis import RedisError
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from app.errors import Invalid, Unauthorized, Unavailable

log = logging.getLogger(__name__)

_DEV_CODE = re.compile(r"^dev:([A-Za-z0-9_-]{1,32})$")

# errcode → (our error class, code, message), for answers any WeChat call can give
SHARED_ERRORS = {
    45011: (Unavailable, "wechat_rate_limited", "微信服务调用过于频繁，请稍后再试"),
    -1: (Unavailable, "wechat_busy", "微信服务繁忙，请稍后再试"),
}
# … and those of jscode2session (login)
_ERRORS = {
    40029: (Unauthorized, "wechat_code_invalid", "微信登录凭证无效或已过期，请重新进入小程序"),
    40163: (Unauthorized, "wechat_code_used", "微信登录凭证已被使用，请重新进入小程序"),
}


def error_for(errcode, errors, fallback, hint=""):
    """The domain error for a WeChat errcode: the call's own `errors`, else SHARED_ERRORS (their message followed by
    `hint`), else `fallback` (kind, code, message; also followed by `hint`)."""
    if errcode in errors:
        kind, reason, message = errors[errcode]
        return kind(reason, message)
    kind, reason, message = SHARED_ERRORS.get(errcode, fallback)
    return kind(reason, message + hint)


# access token invalid (40001, 40014) or expired (42001)
TOKEN_REFUSED = (40001, 40014, 42001)


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


class MiniProgramApi(WeChatWxa):
    """wechatpy's `client.wxa`, with the calls its 1.8 lacks or sends in a retired form."""

    def send_subscribe_message(self, user_id, template_id, data, page=None, miniprogram_state=None, lang="zh_CN"):
        """subscribeMessage.send, with the mini-program version a tap opens (wechatpy's omits it)."""
        body = {"touser": user_id, "template_id": template_id, "data": data, "lang": lang}
        if page:
            body["page"] = page
        if miniprogram_state:
            body["miniprogram_state"] = miniprogram_state
        return self._post("cgi-bin/message/subscribe/send", data=body)

    def get_user_phone_number(self, code):
        """phonenumber.getPhoneNumber: the verified mobile for a getPhoneNumber code."""
        return self._post("wxa/business/getuserphonenumber", data={"code": code})

    def check_text(self, content, openid, scene):
        """msgSecCheck 2.0 (version=2): WeChat's verdict on user text; wechatpy's sends the retired 1.0 form."""
        return self._post("wxa/msg_sec_check",
                          data={"content": content, "version": 2, "scene": scene, "openid": openid})


class StableTokenClient(WeChatClient):
    """wechatpy's client, at a configurable address, fetching its token from `cgi-bin/stable_token`."""

    wxa = MiniProgramApi()

    def __init__(self, appid, secret, session, timeout, base_url, redis_client=None, lock_name=None):
        # wechatpy's own retry on a refused token has no bound: a server that keeps answering 40001
        # made it recurse until RecursionError. `_request` below retries once instead.
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.API_BASE_URL = self.base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = self.base_url
        self._redis = redis_client
        self._lock_name = lock_name or f"wechat:{appid}:token-lock"
        self._local_lock = threading.Lock()

    def _request(self, method, url_or_endpoint, **kwargs):
        """One call; after 40001/40014/42001 (token invalid or expired), the token again and one retry."""
        params = dict(kwargs.pop("params", None) or {})
        if "access_token" in params:  # a caller's own token: not ours to replace
            return super()._request(method, url_or_endpoint, params=params, **kwargs)
        token = self.access_token
        try:
            return super()._request(method, url_or_endpoint, params={**params, "access_token": token}, **kwargs)
        except WeChatClientException as error:
            if error.errcode not in TOKEN_REFUSED:
                raise
        log.info("WeChat refused the access token; fetching it again and retrying once")
        self.fetch_access_token(refused=token)
        return super()._request(method, url_or_endpoint, params={**params, "access_token": self.access_token},
                                **kwargs)

    def fetch_access_token(self, refused=None):
        """Fetch the shared token, unless another caller stored a new one while this one waited.

        `refused` is a token WeChat just refused: a stored token other than it is a newer one.
        """
        seen = refused if refused is not None else self.session.get(self.access_token_key)
        with self._refresh_lock():
            current = self.session.get(self.access_token_key)
            if current and current != seen:
                self.expires_at = None  # another host fetched it: trust the storage's expiry
                return {"access_token": current}
            result = self._fetch_stable_token()
            if refused is not None and result["access_token"] == refused:
                # WeChat refuses the token stable_token still hands out (revoked, or reset elsewhere):
                # only a forced refresh gives a new one. It invalidates the old token for every host,
                # which is refused already.
                log.warning("stable_token gave back the refused token; forcing a refresh")
                result = self._fetch_stable_token(force=True)
            return result

    def _fetch_stable_token(self, force=False):
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                "force_refresh": force}
        response = self._http.post(self.API_BASE_URL + "stable_token", json=body, timeout=self.timeout)
        try:
            response.raise_for_status()
            result = response.json()
        except (requests.RequestException, ValueError) as error:
            raise WeChatClientException(errcode=None, errmsg=type(error).__name__, client=self,
                                        request=response.request, response=response) from None
        if result.get("errcode") or not result.get("access_token"):
            raise WeChatClientException(result.get("errcode"), result.get("errmsg"), client=self,
                                        request=response.request, response=response)
        expires_in = int(result.get("expires_in") or 7200)
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        # wechatpy fetches again once expires_at is 60 s away. stable_token hands out the same token until
        # it lapses, so an earlier fetch (say, on every call of its last minute) only repeats the answer:
        # fetch when it lapses (at most every 5 s should WeChat still give it then), and after a 42001.
        self.expires_at = int(time.time()) + max(expires_in, 5) + 60
        return result

    @contextmanager
    def _refresh_lock(self):
        """One fetch at a time in this process, and across hosts through Redis when it answers."""
        with self._local_lock:
            lock = None
            if self._redis is not None:
                try:
                    lock = self._redis.lock(self._lock_name, timeout=max(10, 2 * (self.timeout or 5)),
                                            blocking_timeout=(self.timeout or 5) + 1)
                    if not lock.acquire():
                        lock = None  # the holder is slow or gone: fetch anyway, stable_token agrees
                except RedisError:
                    lock = None
            try:
                yield
            finally:
                if lock is not None:
                    try:
                        lock.release()
                    except RedisError:
                        pass  # it expired while held, or Redis went away: nothing to release


def client():
    """The app's WeChat client, or None when WeChat is not configured."""
    return current_app.extensions.get("wechat")


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
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    app.extensions["wechat"] = StableTokenClient(
        app_id, secret, session=storage, timeout=app.config["WECHAT_TIMEOUT"],
        base_url=app.config["WECHAT_API_BASE_URL"], redis_client=redis_client,
        lock_name=f"{prefix}:wechat:{app_id}:token-lock",
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
        raise error_for(errcode, _ERRORS, (Unavailable, "wechat_error", "微信登录失败，请稍后再试")) from None
    except requests.RequestException as error:
        log.warning("jscode2session unreachable: %s", type(error).__name__)
        raise Unavailable("wechat_unreachable", "无法连接微信服务，请稍后再试") from None
    openid = result.get("openid") if isinstance(result, dict) else None
    if not openid:
        raise Unavailable("wechat_error", "微信登录失败，请稍后再试")
    return WeChatSession(openid, result.get("session_key"), result.get("unionid"))
