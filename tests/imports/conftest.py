import pytest


@pytest.fixture
def run_import():
    """Import ``content`` (str or bytes) as ``kind`` for ``actor``; returns the finished job."""
    from relatiebeheer.imports import services

    def run(actor, kind, content, *, filename="file.csv", commit=True, encoding="utf-8", **options):
        data = content.encode(encoding) if isinstance(content, str) else content
        mapping = options.pop("mapping", None)
        job = services.import_job_create(
            actor=actor, kind=kind, source=data, filename=filename, mapping=mapping, options=options
        )
        return services.import_job_start(actor=actor, job=job, commit=commit, background=False)

    return run
