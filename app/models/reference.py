"""Reference data: Yinchuan's counties, industrial parks, checkpoints and enterprises."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class County(db.Model):
    """A county or district of Yinchuan (县区), keyed by its administrative code."""

    __tablename__ = "counties"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class Park(db.Model):
    """An industrial park (园区) run by its own management committee."""

    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))


class Checkpoint(db.Model):
    """A place where arrivals are checked: airport, railway station or highway 卡口."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # airport | railway | highway
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))


class Enterprise(db.Model):
    """An employer in Yinchuan (企业) that workers return to; one row of 附件2 with its job rows."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    work_location: Mapped[str | None] = mapped_column(String(255))
    products: Mapped[str | None] = mapped_column(String(255))
    resume_date: Mapped[date | None]  # 开工复工时间
    remarks: Mapped[str | None] = mapped_column(String(255))  # 备注
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
