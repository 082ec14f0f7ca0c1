"""Row ids typed by people (a URL's `page=`, `actor=staff:12`, a form's `park_id`): digits only, within the database's INT.

`str.isdigit()` is not the test: it accepts `²` and other Unicode digits that `int()` then refuses, and
an unbounded number overflows the INT column on MariaDB and SQLite's 64-bit integers. Ids are
positive and at most nine ASCII digits (so never past 2147483647).
"""
import re

MAX_ID = 2147483647
_DIGITS = re.compile(r"[0-9]{1,9}")


def parse_id(value):
    """An id from text (or an int) when it is 1–9 ASCII digits (or an int within INT), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None
