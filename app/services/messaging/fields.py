"""Values made to fit WeChat's subscribe-message data types (订阅消息参数值内容限制).

A template's keys carry their type as prefix (`thing1`, `time2`, `phone_number3`); WeChat refuses a
whole message (47003) when one value breaks its type's rule, so every value is cut or formatted here,
never sent as it came. The limits (WeChat's documentation of subscribeMessage.send):

- thing: up to 20 characters of any kind, no control characters;
- phrase: up to 5 Han characters only; name: 10 Han characters, or 20 letters;
- character_string: 32 digits, letters or symbols; number: 32 digits, may hold a decimal point;
  letter: 32 letters; symbol: 5 symbols;
- phone_number: 17 digits or symbols; car_number: 8 characters, letters and digits, the first and
  the last may be Han;
- time: 24-hour time, may be prefixed by the date; date: the date, may be followed by the time.
"""
import re
from datetime import UTC, date, datetime

from app.services.platform.timeutil import LOCAL_ZONE

_TYPE = re.compile(r"^([a-z_]+?)\d+$")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SYMBOLS = "-+_.:/#*()[]@&%$!?,;~=·"
EMPTY = "无"
ELLIPSIS = "…"

LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32, "letter": 32, "symbol": 5,
          "phone_number": 17, "car_number": 8}


def type_of(key):
    """The data type a template key names (`thing3` → thing); ValueError for a key without one."""
    match = _TYPE.match(key)
    if not match or match.group(1) not in _FORMATTERS:
        raise ValueError(f"not a subscribe-message key: {key!r}")
    return match.group(1)


def fit(key, value):
    """The value of one template field, cut or formatted to its type's rule; never empty."""
    return _FORMATTERS[type_of(key)](value)


def fit_all(data):
    """{key: value} → WeChat's {key: {"value": fitted}} for subscribeMessage.send."""
    return {key: {"value": fit(key, value)} for key, value in data.items()}


def masked_phone(fitted):
    """A fitted phone number as the inbox shows it: 139****5678 (short ones and "-" as they are)."""
    if len(fitted) < 8:
        return fitted
    return fitted[:3] + "*" * (len(fitted) - 7) + fitted[-4:]


def _text(value):
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return _when(value, with_time=isinstance(value, datetime))
    return _CONTROL.sub(" ", str(value)).strip()


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def _thing(value):
    return _cut(_text(value), LIMITS["thing"]) or EMPTY


def _phrase(value):
    kept = "".join(_HAN.findall(_text(value)))
    return kept[:LIMITS["phrase"]] or EMPTY


def _name(value):
    text = _text(value).replace(" ", "")
    if _HAN.search(text):  # pure Han: a mask's * or a middle dot among Han would refuse the message
        return "".join(ch for ch in text if _HAN.match(ch))[:10] or EMPTY
    return "".join(ch for ch in text if ch.isascii() and (ch.isalpha() or ch in _SYMBOLS))[:20] or EMPTY


def _kept(value, allowed, limit, empty="-"):
    kept = "".join(ch for ch in _text(value) if ch.isascii() and allowed(ch))
    return kept[:limit] or empty


def _character_string(value):
    return _kept(value, lambda ch: ch.isalnum() or ch in _SYMBOLS, LIMITS["character_string"])


def _number(value):
    """Digits with at most one decimal point (the first): 1.2.3 → 1.23."""
    whole, point, rest = _kept(value, lambda ch: ch.isdigit() or ch == ".", LIMITS["number"], empty="0").partition(".")
    decimals = rest.replace(".", "")
    if not whole and not decimals:
        return "0"
    return (whole or "0") + (point + decimals if decimals else "")


def _letter(value):
    return _kept(value, str.isalpha, LIMITS["letter"], empty="X")


def _symbol(value):
    return _kept(value, lambda ch: ch in _SYMBOLS, LIMITS["symbol"])


def _phone_number(value):
    return _kept(value, lambda ch: ch.isdigit() or ch in "+-", LIMITS["phone_number"])


def _car_number(value):
    text = "".join(_text(value).split()).upper()
    kept = [ch for index, ch in enumerate(text)
            if (ch.isascii() and ch.isalnum()) or (_HAN.match(ch) and index in (0, len(text) - 1))]
    return "".join(kept)[:LIMITS["car_number"]] or "-"


def _when(value, with_time=True):
    """A stored naive-UTC datetime (or an aware one, or a date) in Beijing time, as 2020年2月25日 08:30."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        local = moment.astimezone(LOCAL_ZONE)
        day = f"{local.year}年{local.month}月{local.day}日"
        return f"{day} {local:%H:%M}" if with_time else day
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return ""


def _time(value):
    return _when(value) if isinstance(value, datetime | date) else (_text(value)[:24] or "-")


def _date(value):
    return _when(value) if isinstance(value, datetime | date) else (_text(value)[:24] or "-")


_FORMATTERS = {
    "thing": _thing, "phrase": _phrase, "name": _name, "character_string": _character_string,
    "number": _number, "letter": _letter, "symbol": _symbol, "phone_number": _phone_number,
    "car_number": _car_number, "time": _time, "date": _date,
}
