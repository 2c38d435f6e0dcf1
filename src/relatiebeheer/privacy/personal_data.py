"""Personal-data registry entries for the third-party models (Django's own, axes,
django-tasks); each app of ours registers its own models in its ``personal_data.py``."""

from .registry import not_personal, personal

not_personal("auth.Permission", "name", "codename", why="permission names, part of the code")
not_personal("auth.Group", "name", why="role names chosen by the administrator")
not_personal("contenttypes.ContentType", "app_label", "model", why="model names")
not_personal("admin.LogEntry", "object_id", why="a primary key")
personal(
    "admin.LogEntry",
    "object_repr",
    "change_message",
    why="the admin's history names the object it changed (a contact's name) and the fields",
    anywhere=True,
)
personal(
    "sessions.Session",
    "session_data",
    why="a user's session may hold a search for a person; an erasure deletes every "
    "session whose decoded data names the person (privacy.services)",
    subject="user",
)
for model in ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"):
    personal(
        model,
        "user_agent",
        "username",
        "http_accept",
        "path_info",
        why="login attempts of the firm's users, with their browsers",
        subject="user",
    )
personal(
    "axes.AccessAttempt",
    "get_data",
    "post_data",
    why="the login form's data as typed",
    subject="user",
)
personal("axes.AccessLog", "session_hash", why="a user's session", subject="user")
personal(
    "django_tasks_database.DBTaskResult",
    "args_kwargs",
    "return_value",
    "traceback",
    why="a queued task's arguments (a contact id, an address) and what it returned or "
    "raised may name the person",
    anywhere=True,
    link_keys=("contact_id", "contact"),
)
not_personal(
    "django_tasks_database.DBTaskResult",
    "status",
    "task_path",
    "worker_ids",
    "queue_name",
    "backend_name",
    "exception_class_path",
    why="the task's bookkeeping: state, code path, worker ids",
)
