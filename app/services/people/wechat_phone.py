"""The worker's mobile as WeChat vouches for it (手机号快速验证, getPhoneNumber → phonenumber.getPhoneNumber).

The mini-program's getPhoneNumber button gives a one-time code; the server exchanges it for the number
(`client.wxa.get_user_phone_number`). Without WeChat configured (development, tests) a code
`dev:<11-digit mobile>` stands for that number, as `dev:<name>` stands for a login; in production an
unconfigured WeChat is a 503.
"""
import logging
import re

import requests
from flask import current_app
from wechatpy.exceptions import WeChatClientException

from app.errors import Invalid, Unavailable
from app.services.people.identity import InvalidIdentity, parse_mobile
from app.services.platform import wechat

log = logging.getLogger(__name__)

_DEV_CODE = re.compile(r"^dev:([0-9]{11})$")
_TYPE_INSTEAD = "，也可以手动填写手机号"

# errcode → (our error class, code, message) of getuserphonenumber; busy (-1) and rate limits (45011) are
# wechat.SHARED_ERRORS, told to type the number in instead
_ERRORS = {
    40029: (Invalid, "phone_code_invalid", "手机号授权已失效，请重新点击“获取手机号”"),
    40163: (Invalid, "phone_code_invalid", "手机号授权已失效，请重新点击“获取手机号”"),
    1400001: (Unavailable, "phone_quota_exhausted", "手机号快速验证今日额度已用完，请手动填写手机号"),
}
_FAILED = (Unavailable, "wechat_error", "微信手机号验证失败，请稍后再试")


def verified_mobile(code):
    """The mainland mobile WeChat gives for a getPhoneNumber code, normalized to 11 digits.

    Raises Invalid (phone_code_invalid, phone_not_mainland, dev_code_invalid), Unavailable (quota, busy,
    unreachable, not configured in production).
    """
    client = wechat.client()
    if client is None:
        return _dev_mobile(code)
    try:
        result = client.wxa.get_user_phone_number(code)
    except WeChatClientException as error:
        log.warning("getuserphonenumber refused: errcode=%s", error.errcode)
        raise wechat.error_for(error.errcode, _ERRORS, _FAILED, hint=_TYPE_INSTEAD) from None
    except requests.RequestException as error:
        log.warning("getuserphonenumber unreachable: %s", type(error).__name__)
        raise Unavailable("wechat_unreachable", "无法连接微信服务，请稍后再试" + _TYPE_INSTEAD) from None
    info = result.get("phone_info") if isinstance(result, dict) else None
    if not isinstance(info, dict) or not info.get("purePhoneNumber"):
        raise Unavailable("wechat_error", "微信手机号验证失败，请稍后再试" + _TYPE_INSTEAD)
    return _mainland(info.get("countryCode"), info["purePhoneNumber"])


def _mainland(country_code, number):
    """The number if it is a mainland mobile (country code 86), else a 422 the worker can act on."""
    refused = Invalid("phone_not_mainland", "该微信绑定的不是中国大陆手机号，请手动填写手机号",
                      fields={"code": "仅支持中国大陆（+86）手机号"})
    if str(country_code or "").strip().lstrip("+") != "86":
        raise refused
    try:
        return parse_mobile(str(number))
    except InvalidIdentity:
        raise refused from None


def _dev_mobile(code):
    """`dev:<mobile>` outside production while WeChat is unconfigured; otherwise the matching refusal."""
    if current_app.config["APP_ENV"] == "production":
        raise Unavailable("wechat_not_configured", "微信手机号验证未配置，请手动填写手机号")
    match = _DEV_CODE.match(code)
    if not match:
        raise Invalid("dev_code_invalid", "未配置微信时，请用 dev:<11位手机号> 形式的测试码",
                      fields={"code": "应为 dev:<11位手机号>"})
    return _mainland(86, match.group(1))
