"""Personal-data registry: the audit log holds who did what to which id and no data of
contacts (``audit.services.audit_log`` stores field names, never values); login entries keep
the address of the login."""

from relatiebeheer.privacy.registry import not_personal, personal

not_personal(
    "audit.AuditEntry",
    "channel",
    "action",
    "object_type",
    "object_id",
    "fields",
    why="the door, the action, the model and id, and the names of the changed fields",
)
personal(
    "audit.AuditEntry",
    "extra",
    why="login entries keep the client address and the username as typed (a keyed hash "
    "when it names no user), removed after LOGIN_RECORD_RETENTION_DAYS; other entries "
    "keep counts and ids",
    subject="user",
)
