"""Helpers shared by the models."""
from datetime import UTC, datetime


def utcnow():
    """Current UTC time as a naive datetime, the form stored in every DATETIME column."""
    return datetime.now(UTC).replace(tzinfo=None)
