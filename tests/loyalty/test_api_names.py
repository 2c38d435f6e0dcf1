"""Public names match the models: the rapport judgement is ``/rapport`` with a ``rapport``
field (``RapportIn``/``RapportOut``); the documented v1 path ``/klik`` keeps working with
the fields it had, but is no longer in the OpenAPI document."""

import json
import re

import pytest

from relatiebeheer.api.openapi import openapi_document
from relatiebeheer.loyalty.models import Rapport
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
# Dutch words that once named things in the loyalty API (the UI keeps them, translated).
DUTCH = re.compile(r"klik|klant|wens|vertrouwen|binding?sniveau|doorlooptijd", re.IGNORECASE)


def test_the_rapport_operations_use_english_names(api_as, owner, account):
    contact = ContactFactory(account=account)
    client = api_as(owner)
    made = client.post(f"loyalty/contacts/{contact.pk}/rapport", {"rapport": True, "note": "x"})
    assert made.status_code == 201, made.json_body
    assert made.json_body["rapport"] is True and "klik" not in made.json_body
    listed = client.get(f"loyalty/contacts/{contact.pk}/rapport").json_body
    assert [r["rapport"] for r in listed] == [True]


def test_the_v1_klik_path_still_works_with_its_old_fields(api_as, owner, other_manager, reader):
    from tests.factories import AccountFactory

    contact = ContactFactory(account=AccountFactory(manager=owner))
    client = api_as(owner)
    old = client.post(f"loyalty/contacts/{contact.pk}/klik", {"klik": False, "note": "mail"})
    assert old.status_code == 201, old.json_body
    assert old.json_body["klik"] is False and "rapport" not in old.json_body
    assert Rapport.objects.get().rapport is False
    assert [r["klik"] for r in client.get(f"loyalty/contacts/{contact.pk}/klik").json_body] == [
        False
    ]
    # The alias is the same operation: the same refusals.
    assert client.post(f"loyalty/contacts/{contact.pk}/klik", {"rapport": True}).status_code == 422
    assert api_as(other_manager).get(f"loyalty/contacts/{contact.pk}/klik").status_code == 404
    refused = api_as(reader).post(f"loyalty/contacts/{contact.pk}/klik", {"klik": True})
    assert refused.status_code == 403
    assert Rapport.objects.count() == 1


def test_the_openapi_document_has_no_dutch_names_in_loyalty():
    document = json.loads(openapi_document())
    paths = [p for p in document["paths"] if p.startswith("/api/v1/loyalty")]
    assert paths and not [p for p in paths if DUTCH.search(p)]
    for path in paths:
        for operation in document["paths"][path].values():
            assert not DUTCH.search(operation["operationId"]), operation["operationId"]
    schemas = document["components"]["schemas"]
    assert "klik" not in json.dumps(schemas).lower()
    assert {"RapportIn", "RapportOut"} <= set(schemas)


def test_operation_ids_stay_what_they_were_whichever_room_holds_the_operation():
    document = json.loads(openapi_document())
    ids = {
        operation["operationId"]
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/loyalty")
        for operation in item.values()
    }
    assert all(i.startswith("relatiebeheer_loyalty_api_") for i in ids)
    assert {
        "relatiebeheer_loyalty_api_list_programmes",
        "relatiebeheer_loyalty_api_drivers",
        "relatiebeheer_loyalty_api_create_binding",
        "relatiebeheer_loyalty_api_launch_campaign",
    } <= ids
