"""The API's OpenAPI document as committed text (``docs/openapi.json``).

A test compares the live document with the committed one, so every change to the API's
contract shows up in review; ``make openapi`` rewrites the file after a deliberate change.
The document is rendered in English with sorted keys, so it is stable across runs.
"""

import json
from pathlib import Path

from django.utils import translation

SNAPSHOT = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def openapi_document() -> str:
    from .urls import api

    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def write_snapshot(path: Path = SNAPSHOT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(openapi_document(), encoding="utf-8")
    return path
