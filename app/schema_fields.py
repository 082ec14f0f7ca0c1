"""Schema pieces shared by every face."""
from apiflask.fields import DateTime

from app.services.timeutil import iso_utc

MAX_ID = 2**31 - 1


class UtcDateTime(DateTime):
    """A stored naive-UTC datetime rendered with a Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_utc(value)
