"""Writing the audit log; the caller's transaction commits it with the action it records."""
from app.extensions import db
from app.models import AuditLog


def record(actor_kind, actor_id, action, object_type, object_id=None, **details):
    """Add one audit entry to the session (committed with the caller's transaction)."""
    db.session.add(AuditLog(actor_kind=actor_kind, actor_id=actor_id, action=action,
                            object_type=object_type, object_id=object_id, details=details or None))
