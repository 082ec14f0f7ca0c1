"""Row ids typed by people: ASCII digits, at most nine, within INT; everything else is None (never an exception)."""
import pytest

from app.services.platform.ids import MAX_ID, parse_id


@pytest.mark.parametrize("value, expected", [
    ("1", 1), ("007", 7), ("999999999", 999999999), (0, 0), (12, 12), (MAX_ID, MAX_ID),
    ("²", None), ("¹²", None), ("١٢", None), ("1234567890", None), ("99999999999999999999999", None),
    ("-1", None), ("+1", None), (" 1", None), ("1 ", None), ("1.0", None), ("", None), (None, None),
    (MAX_ID + 1, None), (-1, None), (True, None), (1.0, None),
])
def test_parse_id(value, expected):
    assert parse_id(value) == expected


def test_the_command_line_takes_a_checkpoint_code_not_a_unicode_digit(app):
    result = app.test_cli_runner().invoke(args=["staff", "create", "cp1", "--role", "checkpoint_staff",
                                                "--checkpoint", "²", "--password-env", "PW"],
                                          env={"PW": "correct-horse-battery"})
    assert result.exit_code != 0 and "no checkpoint with code '²'" in result.output
