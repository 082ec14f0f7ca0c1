"""gunicorn's access log with what clients sent escaped, so no request can write a line of its own.

gunicorn 27 writes the decoded path (`%0A` becomes a newline) and header values as they came,
escaping only `"`: a request for `/healthz%0A1.2.3.4 - "GET /admin ..." 200` adds a fake line. Here
every character outside printable ASCII, and `"` and `\\`, is written as `\\xNN`, the rule nginx's
`escape=default` applies to its own access log, so the two logs read alike. gunicorn.conf.py
names the class (`logger_class`).
"""
import re

from gunicorn.glogging import Logger, SafeAtoms

_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')


def _hex(match):
    code = ord(match.group())
    return f"\\x{code:02X}" if code < 0x100 else f"\\u{code:04X}"


def escape(text):
    """Write control characters, non-ASCII, `"` and `\\` as escapes; an empty value as `-`."""
    return _UNSAFE.sub(_hex, text) if text else "-"


class EscapedAtoms(SafeAtoms):
    """gunicorn's atoms (case-insensitive, `-` when missing) with every text value escaped."""

    def __init__(self, atoms):  # noqa: D107 - SafeAtoms' constructor, escaping instead of quoting
        dict.__init__(self)
        for key, value in atoms.items():
            self[key] = escape(value) if isinstance(value, str) else value


class EscapingLogger(Logger):
    """gunicorn's logger, with escaped access-log atoms."""

    atoms_wrapper_class = EscapedAtoms
