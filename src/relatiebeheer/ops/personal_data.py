"""Personal-data registry: the worker's bookkeeping holds no personal data."""

from relatiebeheer.privacy.registry import not_personal

not_personal("ops.WorkerHeartbeat", "host", why="a host name")
not_personal("ops.ScheduledRun", "job", "task_id", why="a job name and a task id")
