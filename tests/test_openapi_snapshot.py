"""The OpenAPI document equals the committed snapshot (``docs/openapi.json``): a change
to the API's contract is a deliberate, reviewed change (``make openapi`` rewrites it)."""

import difflib

from relatiebeheer.api.openapi import SNAPSHOT, openapi_document


def test_the_openapi_document_matches_the_committed_snapshot():
    live = openapi_document()
    committed = SNAPSHOT.read_text(encoding="utf-8")
    if live != committed:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    live.splitlines(keepends=True),
                    "docs/openapi.json",
                    "live",
                )
            )[:80]
        )
        raise AssertionError(
            "The API changed. If that is intended, run `make openapi` and commit "
            "docs/openapi.json.\n" + diff
        )


def test_every_schema_in_the_document_is_one_class():
    """Two apps defining a schema of the same name silently share one definition in the
    document (found by the fuzzer: event and survey invitations); names must be unique."""
    import inspect
    import json
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps
    from ninja import Schema

    classes: dict[str, set[type]] = {}
    for config in apps.get_app_configs():
        name = f"{config.name}.api"
        if config.name.startswith("relatiebeheer.") and find_spec(name):
            for _, cls in inspect.getmembers(import_module(name), inspect.isclass):
                if issubclass(cls, Schema) and cls.__module__ == name:
                    classes.setdefault(cls.__name__, set()).add(cls)
    document = json.loads(openapi_document())
    shared = {
        name: sorted(cls.__module__ for cls in classes.get(name, ()))
        for name in document["components"]["schemas"]
        if len(classes.get(name, ())) > 1
    }
    assert not shared, shared
