"""Chinese resident ID numbers (GB 11643), mobile numbers, and how they are shown masked."""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from app.services.platform.timeutil import local_today

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9][0-9]{16}[0-9X]")
_MOBILE_SHAPE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE_SHAPE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")
MIN_WORKING_AGE = 16


class InvalidIdentity(ValueError):
    """An ID number or phone that fails validation; `args[0]` is a Chinese explanation."""


@dataclass(frozen=True)
class IdNumber:
    """A validated 18-character ID number with what it tells about its holder."""

    value: str
    birth_date: date
    gender: str  # "male" | "female"


def _ascii(raw):
    """NFKC-fold what a phone keyboard may send (full-width digits, ｘ) and trim it."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def id_check_character(first17):
    """Return the GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def parse_id_number(raw, today=None):
    """Validate an ID number and return it normalized with birth date and gender.

    Raises InvalidIdentity when the shape, check character or birth date is wrong.
    """
    value = _ascii(raw).upper()
    if not _ID_SHAPE.fullmatch(value):
        raise InvalidIdentity("身份证号应为18位，前17位为数字，最后一位为数字或X")
    if id_check_character(value[:17]) != value[17]:
        raise InvalidIdentity("身份证号校验位不正确，请核对")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdentity("身份证号中的出生日期无效") from None
    today = today or local_today()
    if born > today or born.year < today.year - 120:
        raise InvalidIdentity("身份证号中的出生日期无效")
    if (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < MIN_WORKING_AGE:
        raise InvalidIdentity(f"未满{MIN_WORKING_AGE}周岁，不能登记务工")
    gender = "male" if int(value[16]) % 2 == 1 else "female"
    return IdNumber(value=value, birth_date=born, gender=gender)


def parse_mobile(raw):
    """Validate a mainland mobile number (11 digits, 1[3-9]...) and return it normalized."""
    value = re.sub(r"[\s-]", "", _ascii(raw))
    if value.startswith("+86"):
        value = value[3:]
    if not _MOBILE_SHAPE.fullmatch(value):
        raise InvalidIdentity("手机号应为11位，以13-19开头")
    return value


def parse_card_and_mobile(id_number, mobile, mobile_field="mobile"):
    """An ID number and a mobile as a registration form takes them: (IdNumber or None, mobile or None, errors by field)."""
    errors, parsed, normal = {}, None, None
    try:
        parsed = parse_id_number(id_number)
    except InvalidIdentity as error:
        errors["id_number"] = str(error)
    try:
        normal = parse_mobile(mobile or "")
    except InvalidIdentity as error:
        errors[mobile_field] = str(error)
    return parsed, normal, errors


def parse_phone(raw):
    """Validate a mobile or a landline with area code (0951-6017170) and return it normalized."""
    value = re.sub(r"\s", "", _ascii(raw))
    if _LANDLINE_SHAPE.fullmatch(value):
        return value
    try:
        return parse_mobile(value)
    except InvalidIdentity:
        raise InvalidIdentity("电话应为11位手机号，或带区号的固定电话（如 0951-6017170）") from None


def mask_phone(value):
    """Mask a mobile as 139****5678 and a landline as 0951-****170 (area code and last three kept)."""
    if _MOBILE_SHAPE.fullmatch(value):
        return mask_mobile(value)
    area, _, local = value.rpartition("-") if "-" in value else (value[:4], "", value[4:])
    return f"{area}-{'*' * (len(local) - 3)}{local[-3:]}"


def mask_id_number(value):
    """Show the area code and the last four: 640104********1234."""
    return value[:6] + "*" * 8 + value[-4:]


def mask_mobile(value):
    """Show the prefix and the last four: 139****5678."""
    return value[:3] + "****" + value[-4:]


def mask_name(value):
    """Hide the middle of a name: 张*三, 李*, 欧**华."""
    if not value:
        return value
    if len(value) == 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
