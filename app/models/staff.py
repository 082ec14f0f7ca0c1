"""Staff accounts (工作人员): a role and the scope it covers."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

ROLES = (
    "admin",  # the coordination office: everything
    "county_operator",  # 县区: applications, plans and trips of one county
    "park_operator",  # 园区: applications to the park's enterprises
    "transport_operator",  # 运输: fills vehicles, drivers and medics of one county's trips
    "checkpoint_staff",  # 卡口/机场/火车站: one checkpoint
    "enterprise_hr",  # 企业: one enterprise
    "health_officer",  # 卫健: isolation orders, one county or all
)
# Which scope column each role needs (None: no scope, or optional).
ROLE_SCOPE = {
    "admin": None,
    "county_operator": "county_code",
    "park_operator": "park_id",
    "transport_operator": "county_code",
    "checkpoint_staff": "checkpoint_id",
    "enterprise_hr": "enterprise_id",
    "health_officer": None,
}


class StaffUser(db.Model):
    """A console user; what they may see is fixed by role and scope, checked on every route."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(24))
    county_code: Mapped[str | None] = mapped_column(ForeignKey("counties.code"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # The mini-program login this staff member linked (员工绑定小程序): their alerts may also reach WeChat.
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), unique=True)
