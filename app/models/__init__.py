"""All models, imported here so Alembic and the app see every table."""
from app.models.application import Application
from app.models.health import HealthEvent
from app.models.reference import Checkpoint, County, Enterprise, Park
from app.models.worker import AuthToken, Worker

__all__ = [
    "Application",
    "AuthToken",
    "Checkpoint",
    "County",
    "Enterprise",
    "HealthEvent",
    "Park",
    "Worker",
]
