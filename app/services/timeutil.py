"""Time conventions: UTC in the database, Beijing time for the calendar people live by."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def local_today():
    """Today's date in Beijing time, the day a departure date means."""
    return datetime.now(LOCAL_ZONE).date()


def iso_utc(moment):
    """Render a stored naive-UTC datetime as ISO 8601 with a Z, or None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
