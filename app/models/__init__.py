"""All models, imported here so Alembic and the app see every table."""
from app.models.application import Application
from app.models.audit import AuditLog
from app.models.certificates import HealthCertificate, TrustPartner
from app.models.checkin import IsolationOrder, ScanEvent
from app.models.content import ContentCheck
from app.models.employment import EnterpriseJob, LiaisonUnit, RosterEntry, VacancyInterest
from app.models.health import HealthEvent
from app.models.messages import Message, SubscriptionGrant
from app.models.reference import Checkpoint, County, Enterprise, Park
from app.models.staff import StaffUser
from app.models.transport import Convoy, Plan, Revocation, Seat, SigningKey, Trip
from app.models.worker import AuthToken, Worker

__all__ = [
    "Application",
    "AuditLog",
    "Convoy",
    "Plan",
    "Revocation",
    "Seat",
    "SigningKey",
    "StaffUser",
    "Trip",
    "AuthToken",
    "Checkpoint",
    "ContentCheck",
    "County",
    "Enterprise",
    "EnterpriseJob",
    "LiaisonUnit",
    "RosterEntry",
    "VacancyInterest",
    "HealthEvent",
    "HealthCertificate",
    "TrustPartner",
    "IsolationOrder",
    "Message",
    "SubscriptionGrant",
    "ScanEvent",
    "Park",
    "Worker",
]
