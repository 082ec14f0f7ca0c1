"""Employment (用工): an enterprise's job rows (附件2), the interest workers show in its
vacancies, and the returnees who came back on their own (零散返岗)."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

TRANSPORTS = ("bus", "train", "flight", "car", "other")  # 客车 / 火车 / 飞机 / 自驾 / 其他


class EnterpriseJob(db.Model):
    """One job type of an enterprise: positions filled (解决用工) and short (缺工).

    A row with `short > 0` is a vacancy the mini-program offers for local work (就地就近务工).
    """

    __tablename__ = "enterprise_jobs"
    __table_args__ = (UniqueConstraint("enterprise_id", "job_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    job_type: Mapped[str] = mapped_column(String(64))  # 工种
    filled: Mapped[int] = mapped_column(default=0)  # 解决用工人数
    short: Mapped[int] = mapped_column(default=0)  # 缺工人数
    remarks: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VacancyInterest(db.Model):
    """A worker's interest in a vacancy; HR sees who only once the worker allows contact."""

    __tablename__ = "vacancy_interests"
    __table_args__ = (UniqueConstraint("job_id", "worker_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("enterprise_jobs.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    contact_allowed: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="interested")  # interested | hired | withdrawn
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class RosterEntry(db.Model):
    """A returnee an enterprise's HR registered because they came back on their own (零散返岗).

    Returnees who came on a planned trip are on the roster through their seat and need no row.
    """

    __tablename__ = "roster_entries"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "worker_id"),
        Index("ix_roster_entries_arrival", "enterprise_id", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    origin: Mapped[str] = mapped_column(String(128))  # 从何处返回
    arrival_date: Mapped[date]
    transport: Mapped[str] = mapped_column(String(16))  # one of TRANSPORTS
    transport_number: Mapped[str | None] = mapped_column(String(32))  # 车次 / 航班号 / 车牌号
    registered_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LiaisonUnit(db.Model):
    """One row of 附件1 联络员名单: a unit, its leader in charge and its liaison; kept by the office.

    Mobiles are personal data: stored encrypted with a mask, like workers' phones.
    """

    __tablename__ = "liaison_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)  # 序号 order on the list
    unit_name: Mapped[str] = mapped_column(String(128), unique=True)
    leader_name: Mapped[str] = mapped_column(String(50))
    leader_office_phone: Mapped[str | None] = mapped_column(String(32))
    leader_mobile_cipher: Mapped[bytes | None] = mapped_column(db.LargeBinary(128))
    leader_mobile_mask: Mapped[str | None] = mapped_column(String(11))
    liaison_name: Mapped[str] = mapped_column(String(50))
    liaison_office_phone: Mapped[str | None] = mapped_column(String(32))
    liaison_mobile_cipher: Mapped[bytes | None] = mapped_column(db.LargeBinary(128))
    liaison_mobile_mask: Mapped[str | None] = mapped_column(String(11))
    liaison_wechat: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
