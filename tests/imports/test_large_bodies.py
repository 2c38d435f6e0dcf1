"""Large bodies on ``POST /api/v1/imports``: a streamed CSV body, a multipart upload and
JSON beyond Django's 2.5 MB in-memory limit are imported; a body over
``IMPORT_UPLOAD_MAX_BYTES`` is a 413 problem+json in the user's language, never a 500,
and leaves nothing behind."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from relatiebeheer.common.bodylimit import LimitedBody
from relatiebeheer.common.errors import TooLarge
from relatiebeheer.imports.jobs import imports_dir
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.sales.models import Order
from relatiebeheer.users.models import ApiToken

from ..factories import AccountFactory

pytestmark = pytest.mark.django_db

ROWS = 50_000


def _orders_csv(rows: int, prefix: str = "BESTELLING-2026-") -> bytes:
    lines = ["Order id;Klantnummer;Datum;Omzet"]
    lines += [f"{prefix}{n:07d};KLANTNUMMER-{n % 10:05d};27-11-2026;1.234,56" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _client(user, language="en") -> tuple[Client, dict]:
    _token, raw = ApiToken.issue(user=user, name="tests")
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": language}


def _run_queued(job_id: int) -> ImportJob:
    """Files over 20,000 rows go to the worker: run its task here."""
    from relatiebeheer.imports.tasks import run_import

    job = ImportJob.objects.get(pk=job_id)
    if job.status == ImportJob.Status.QUEUED:
        run_import.call(job_id=job_id, commit=not job.dry_run)
    return ImportJob.objects.get(pk=job_id)


@pytest.fixture
def accounts(owner):
    return [AccountFactory(external_id=f"KLANTNUMMER-{n:05d}", manager=owner) for n in range(10)]


def test_a_50000_order_csv_streamed_as_the_body_is_imported(
    owner, accounts, django_capture_on_commit_callbacks
):
    # Given a 50,000-order CSV of more than 2.5 MB (Django's in-memory limit)
    body = _orders_csv(ROWS)
    assert len(body) > 2.5 * 1024**2
    client, headers = _client(owner)
    # When it is sent as the request body
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports?kind=orders&filename=orders.csv",
            body,
            content_type="text/csv",
            **headers,
        )
    # Then the job is accepted and every order is imported
    assert response.status_code == 202, response.content[:500]
    job = _run_queued(response.json()["id"])
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.created == ROWS and job.filename == "orders.csv"
    assert Order.objects.count() == ROWS


def test_a_50000_order_multipart_upload_and_large_json_are_taken(
    owner, accounts, django_capture_on_commit_callbacks
):
    client, headers = _client(owner)
    body = _orders_csv(ROWS)
    with django_capture_on_commit_callbacks(execute=True):
        upload = client.post(
            "/api/v1/imports",
            {
                "kind": "orders",
                "file": SimpleUploadedFile("bestellingen.csv", body, "text/csv"),
                "dry_run": "true",
                "notation": "nl",
            },
            **headers,
        )
    assert upload.status_code == 202, upload.content[:500]
    job = _run_queued(upload.json()["id"])
    assert job.filename == "bestellingen.csv" and job.dry_run
    assert job.status == ImportJob.Status.VALIDATED and job.created == ROWS
    # JSON over 2.5 MB (it was a 500) is taken too.
    text = _orders_csv(ROWS, prefix="JSON-2026-").decode()
    with django_capture_on_commit_callbacks(execute=True):
        inline = client.post(
            "/api/v1/imports",
            json.dumps({"kind": "orders", "text": text, "commit": False}),
            content_type="application/json",
            **headers,
        )
    assert inline.status_code == 202, inline.content[:500]
    assert _run_queued(inline.json()["id"]).created == ROWS
    assert not Order.objects.exists()  # both were checks only


def test_an_over_limit_body_is_a_413_problem_in_the_users_language(owner, accounts, settings):
    # Given a limit of 1 MB and a 1.2 MB file
    settings.IMPORT_UPLOAD_MAX_BYTES = 1024**2
    body = _orders_csv(20_000)
    assert len(body) > 1024**2
    client, headers = _client(owner, language="nl")
    before = set(imports_dir().glob("*")) if imports_dir().exists() else set()
    sent = [
        client.post("/api/v1/imports?kind=orders", body, content_type="text/csv", **headers),
        client.post(
            "/api/v1/imports",
            {"kind": "orders", "file": SimpleUploadedFile("o.csv", body, "text/csv")},
            **headers,
        ),
        client.post(
            "/api/v1/imports",
            json.dumps({"kind": "orders", "text": body.decode()}),
            content_type="application/json",
            **headers,
        ),
    ]
    for response in sent:
        # Then each is a 413 problem in Dutch, …
        assert response.status_code == 413
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 413 and problem["code"] == "too_large"
        assert problem["title"] == "Het verzoek is te groot."
        assert "1 MB" in problem["detail"]
    # … and nothing was stored: no job, no file.
    assert not ImportJob.objects.exists()
    after = set(imports_dir().glob("*")) if imports_dir().exists() else set()
    assert after == before
    # Just under the limit goes through.
    small = client.post(
        "/api/v1/imports?kind=orders", _orders_csv(100), content_type="text/csv", **headers
    )
    assert small.status_code == 202


def test_a_stream_longer_than_it_said_is_stopped_at_the_limit(owner, accounts, settings):
    # A body whose length was not declared up front (chunked) is counted while read.
    request = RequestFactory().post("/api/v1/imports", b"x" * 5000, content_type="text/csv")
    chunks = LimitedBody(request, 4096, chunk_size=1024).chunks()
    with pytest.raises(TooLarge):
        list(chunks)


def test_bad_fields_in_an_upload_are_a_422_and_store_nothing(owner, accounts):
    client, headers = _client(owner)
    response = client.post(
        "/api/v1/imports?kind=socks", _orders_csv(10), content_type="text/csv", **headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"
    unknown = client.post(
        "/api/v1/imports",
        {"kind": "orders", "colour": "red", "file": SimpleUploadedFile("o.csv", b"a;b\n1;2\n")},
        **headers,
    )
    assert unknown.status_code == 422
    missing = client.post("/api/v1/imports", {"kind": "orders"}, **headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    assert not ImportJob.objects.exists()


def test_a_json_body_over_the_memory_limit_elsewhere_in_the_api_is_a_413(owner):
    client, headers = _client(owner)
    response = client.post(
        "/api/v1/accounts",
        json.dumps({"name": "x" * (3 * 1024**2)}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_a_multipart_body_without_a_boundary_is_a_400(owner):
    client, headers = _client(owner)
    response = client.post(
        "/api/v1/imports", b'{"kind": "orders"}', content_type="multipart/form-data", **headers
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
