"""The personal-data registry: every text and JSON field of every model is classified
(personal or not, with a reason); the export and the erasure read the same entries."""

import pytest
from django.db import models

from relatiebeheer.privacy import registry


def test_every_text_and_json_field_is_classified():
    missing = registry.unclassified()
    assert not missing, (
        "classify these fields in the owning app's personal_data.py "
        f"(privacy.registry.personal / not_personal, with a reason): {missing}"
    )


def test_a_new_unclassified_text_field_fails_the_check(monkeypatch):
    """A CharField added to Task (without touching any personal_data.py) is reported."""
    from relatiebeheer.relations.models import Task

    extra = models.CharField(max_length=10, blank=True)
    extra.set_attributes_from_name("nickname")
    real = registry.text_fields
    monkeypatch.setattr(
        registry,
        "text_fields",
        lambda model: [*real(model), extra] if model is Task else real(model),
    )
    assert registry.unclassified() == ["relations.Task.nickname"]


def test_every_personal_entry_says_where_and_why():
    entries = list(registry._registry.values())
    assert len(entries) > 150
    for entry in entries:
        assert entry.why.strip()
        if entry.personal and entry.subject == "contact":
            assert entry.contact or entry.account or entry.anywhere, entry


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("satisfaction.Answer", "value_text"),
        ("satisfaction.Invitation", "draft"),
        ("outbox.OutboxMessage", "renderer_args"),
        ("django_tasks_database.DBTaskResult", "args_kwargs"),
        ("relations.Task", "title"),
        ("sales.Order", "notes"),
    ],
)
def test_the_places_the_issue_names_are_personal(label, field):
    entry = registry.classification(label, field)
    assert entry is not None and entry.personal
