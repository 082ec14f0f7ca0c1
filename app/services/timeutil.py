"""Time conventions: UTC in the database, Beijing time for the calendar people live by."""
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def local_today():
    """Today's date in Beijing time, the day a departure date means."""
    return datetime.now(LOCAL_ZONE).date()


def local_day(moment):
    """The Beijing-time date of a stored naive-UTC moment."""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_ZONE).date()


def utc_at(day, hour=0):
    """A Beijing-time hour of a day as naive UTC (hour 0: the midnight starting the day)."""
    return datetime.combine(day, time(hour), LOCAL_ZONE).astimezone(UTC).replace(tzinfo=None)


def iso_utc(moment):
    """Render a stored naive-UTC datetime as ISO 8601 with a Z, or None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
