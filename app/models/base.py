"""Helpers shared by the models."""
from datetime import UTC, datetime

from sqlalchemy.dialects import mysql

# Text compared byte for byte on MySQL/MariaDB (the tables' collation ignores case and width).
BINARY_TEXT = mysql.VARCHAR(64, collation="utf8mb4_bin")


def utcnow():
    """Current UTC time as a naive datetime, the form stored in every DATETIME column."""
    return datetime.now(UTC).replace(tzinfo=None)
