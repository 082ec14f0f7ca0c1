"""What the page modules share to read a query or a form: filled-in values, numbers and ids, paging, the return URL.

Every number from a URL or a form goes through `number` or `parse_id` (`[0-9]{1,9}`, never `str.isdigit()`,
which accepts `²`), so bad or huge input is the page's Chinese message, never a 500.
"""
from math import ceil
from urllib.parse import urlsplit

from flask import url_for

from app.errors import Invalid, flatten_fields
from app.services.platform.ids import MAX_ID, parse_id

__all__ = ["MAX_ID", "back_target", "given", "number", "page_or_first", "paging", "parse_id"]


def given(args, keys):
    """The values of a query or form among `keys` that are filled in (an empty field means none), stripped."""
    return {key: args.get(key).strip() for key in keys if (args.get(key) or "").strip()}


def number(text, field, low, high, message="筛选条件有误"):
    """An integer low–high from text, or Invalid naming the field (`page=²`, `page=-1`, `page=99999999999`)."""
    value = parse_id(text)
    if value is None or not low <= value <= high:
        raise Invalid("validation_error", message, fields={field: f"应为 {low}–{high} 的整数"})
    return value


def page_or_first(text, high=100000):
    """A page number for a list that shows no filter errors: a bad one is page 1, a big one the highest."""
    value = parse_id(str(text))
    return 1 if not value else min(value, high)


def paging(page, per_page, total, choices=None):
    """Page numbers to link: first, last and two either side of the current one (None marks a gap)."""
    pages = max(1, ceil(total / per_page))
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers = []
    for shown_number in shown:
        if numbers and shown_number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(shown_number)
    found = {"page": page, "per_page": per_page, "pages": pages, "numbers": numbers}
    return {**found, "choices": choices} if choices is not None else found


def back_target(value, prefix, default):
    """Where to return after an action: a URL of this console under `prefix` (path and query), else `default`."""
    parts = urlsplit(value or "")
    if not parts.path.startswith(prefix) or "\\" in parts.path:
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")


def error_sentence(error, lead, labels):
    """A schema's ValidationError, or a domain error (its message, the fields the form has), as one Chinese sentence:
    `lead：状态 应为以下之一…；页码 …`, each field named by `labels`."""
    if hasattr(error, "messages"):
        fields = flatten_fields(error.messages)
    else:
        fields = {name: text for name, text in (error.fields or {}).items() if name in labels}
        if not fields:
            return f"{lead}：{error.message}"
    return lead + "：" + "；".join(f"{labels.get(name.split('.')[0], name)} {text}" for name, text in fields.items())


def filtered_url(endpoint, current, **changes):
    """A list page's URL: its current filters with some values changed (page=2); a value of None drops that filter."""
    values = {**current, **changes}
    return url_for(endpoint, **{key: str(value) for key, value in values.items() if value is not None})
