"""What an import job may be: where its files live, who may change or run it, and
which options and mappings it takes (checked before anything runs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from relatiebeheer.common.errors import InvalidInput, NotFound, PermissionRefused
from relatiebeheer.common.files import private_dir
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.rules import require_can_change
from relatiebeheer.users.models import User

from .fields import fields_for
from .messages import file_problem
from .models import ImportJob, ImportPreset
from .presets import shipped

OPTION_KEYS = {"notation", "date_order", "partial", "dry_run", "account_id", "preset"}


def imports_dir() -> Path:
    return private_dir(Path(settings.VAR_DIR) / "imports")


def rejected_path(job: ImportJob) -> Path:
    """The refused rows of the job's last run (see ``engine.write_rejected``)."""
    return Path(job.path).parent / "rejected.csv"


# --- checks ---------------------------------------------------------------------------------


def clean_options(actor: User, options: Mapping[str, Any] | None) -> dict:
    options = dict(options or {})
    unknown = set(options) - OPTION_KEYS
    if unknown:
        raise InvalidInput({name: [_("Unknown option.")] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    if options.get("notation") not in (None, "", "nl", "en"):
        errors["notation"] = [_("Choose nl or en.")]
    if options.get("date_order") not in (None, "", "dmy", "mdy"):
        errors["date_order"] = [_("Choose dmy (day first) or mdy (month first).")]
    account_id: Any = options.get("account_id")
    if account_id not in (None, ""):
        try:
            account_id = int(account_id)
        except (TypeError, ValueError):
            account_id = 0
        if not Account.objects.visible_to(actor).filter(pk=account_id).exists():
            errors["account_id"] = [_("Unknown account.")]
        options["account_id"] = account_id
    if errors:
        raise InvalidInput(errors)
    options["partial"] = bool(options.get("partial"))
    options["dry_run"] = bool(options.get("dry_run"))
    return {k: v for k, v in options.items() if v not in (None, "")}


def clean_mapping(kind: str, headers: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    specs = fields_for(kind)
    errors: dict[str, list[str]] = {}
    clean = {}
    used: dict[str, str] = {}
    for fname, header in mapping.items():
        if not header:
            continue
        if fname not in specs:
            errors[str(fname)] = [file_problem("unknown_field")]
        elif header not in headers:
            errors[fname] = [file_problem("unknown_column") + f" ({header})"]
        elif header in used:
            errors[fname] = [
                _("The column %(column)s is already mapped to %(field)s.")
                % {"column": header, "field": specs[used[header]].label}
            ]
        else:
            clean[fname] = header
            used[header] = fname
    if errors:
        raise InvalidInput(errors)
    return clean


def require_own_job(actor: User, job: ImportJob) -> None:
    """Only the user who started a job changes or runs it (others: not found / refused)."""
    require_can_change(actor)
    if not ImportJob.objects.visible_to(actor).filter(pk=job.pk).exists():
        raise NotFound()
    if job.created_by_id != actor.pk:
        raise PermissionRefused(_("Only the user who started this import can change or run it."))


def preset_mapping(
    actor: User, kind: str, preset: str | int, headers: list[str]
) -> tuple[dict[str, str], dict] | None:
    """(mapping, options) of a shipped preset key or a saved preset id, or ``None``."""
    key = str(preset)
    found = shipped(key)
    if found is not None and found.kind == kind:
        return found.mapping_for(headers), found.options or {}
    if key.isdigit():
        saved = ImportPreset.objects.visible_to(actor).filter(pk=int(key), kind=kind).first()
        if saved is not None:
            mapping = {f: h for f, h in saved.mapping.items() if h in headers}
            return mapping, saved.options
    return None
