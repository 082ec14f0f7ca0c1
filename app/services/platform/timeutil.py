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


def iso_local(moment):
    """Render a moment as the API answers every one: ISO 8601 in Beijing time, "+08:00"; None stays None.

    A naive moment is a stored one, in UTC. Dates the API answers are Beijing dates, so its times
    are Beijing times too: a client reads both without converting.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_ZONE).isoformat()

