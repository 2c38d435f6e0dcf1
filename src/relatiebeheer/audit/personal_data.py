"""Personal-data registry: the audit log holds who did what to which id, no personal
data (``audit.services.audit_log`` stores field names, never values)."""

from relatiebeheer.privacy.registry import not_personal

not_personal(
    "audit.AuditEntry",
    "channel",
    "action",
    "object_type",
    "object_id",
    "fields",
    "extra",
    why="the door, the action, the model and id, and the names of the changed fields",
)
