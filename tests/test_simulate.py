"""`flask simulate` drives the whole flow through the API and leaves a populated system."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import HealthEvent, ScanEvent, Seat


def test_simulate_populates_every_stage(app):
    result = app.test_cli_runner().invoke(args=["simulate", "--workers", "12", "--seed", "3", "--fever-rate", "0.3"])
    assert result.exit_code == 0, result.output
    assert "12 workers signed up" in result.output and "staff logins" in result.output
    assert db.session.scalar(select(func.count()).select_from(Seat)) == 12
    kinds = dict(db.session.execute(select(HealthEvent.kind, func.count()).group_by(HealthEvent.kind)).all())
    assert kinds["declaration"] == 12 and kinds["boarding"] == 12 and kinds.get("arrival", 0) >= 1
    verdicts = set(db.session.scalars(select(ScanEvent.verdict)))
    assert {"allow", "isolate"} <= verdicts
    assert db.session.scalar(select(func.count()).select_from(ScanEvent).where(ScanEvent.mode == "offline")) >= 1
