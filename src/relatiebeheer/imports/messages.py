"""Reasons a row is refused, in words, in the reader's language.

Problems are stored as a code with parameters (see ``models.ImportIssue``) and put into
words only when shown, so the same report reads in Dutch for one user and in English
for the next.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from relatiebeheer.relations.rules import MESSAGES as RELATIONS_RULES
from relatiebeheer.relations.validators import MESSAGES as VALIDATORS
from relatiebeheer.sales.rules import MESSAGES as SALES_RULES


def describe(code: str, params: dict | None = None) -> str:
    """The reason ``code`` in words. A domain rule's code reads as its rule module's
    message: the import and the row services refuse with the same words."""
    rule = SALES_RULES.get(code) or RELATIONS_RULES.get(code) or VALIDATORS.get(code)
    if rule is not None:
        return str(rule)
    params = dict(params or {})
    texts = {
        "required": _("A value is required."),
        "invalid": _("This cannot be read as the expected value."),
        "invalid_amount": _("Not an amount: write it like 1.234,56 or 1234.56."),
        "ambiguous_amount": _(
            "Ambiguous amount (thousands or decimals?): choose the notation of the file."
        ),
        "fraction_of_cent": _("Amounts have at most two decimals (whole cents)."),
        "too_many_decimals": _("Too many decimals."),
        "too_large": _("This number is too large."),
        "invalid_date": _("Not a date: write it like 27-11-2026 or 2026-11-27."),
        "ambiguous_date": _(
            "Ambiguous date (day-month or month-day?): choose the date order of the file."
        ),
        "short_year": _("Write the year in four digits, e.g. 27-11-2026."),
        "invalid_datetime": _("Not a date and time: write it like 27-11-2026 14:30."),
        "invalid_number": _("Not a whole number."),
        "out_of_range": _("Must be between %(min)s and %(max)s.")
        % {
            "min": params.get("min", ""),
            "max": params.get("max", ""),
        },
        "invalid_choice": _("Unknown value; allowed: %(allowed)s.")
        % {"allowed": params.get("allowed", "")},
        "invalid_bool": _("Write yes or no."),
        "too_long": _("Too long: at most %(max)s characters.") % {"max": params.get("max", "")},
        "invalid_text": _("Text may not contain NUL characters."),
        "email": _("Enter a valid email address."),
        "url": _("Enter a valid web address."),
        "unknown_user": _("No active user with this user name or name."),
        "ambiguous_user": _("Several users have this name; use the user name."),
        "unknown_account": _("Unknown account."),
        "ambiguous_account": _(
            "Several accounts match; refer to the account by its number or external id."
        ),
        "account_required": _("Which account? Map a column with the account or choose one."),
        "unknown_record": _("No record with this number that you may change."),
        "not_yours": _("This record belongs to an account you cannot change."),
        "external_id_taken": _("This external id is already used by another record."),
        "duplicate_in_file": _("The same record appears earlier in the file (row %(row)s).")
        % {"row": params.get("row", "")},
        "ambiguous_kvk": _(
            "Several of your accounts have this KvK number; add an external id to tell them apart."
        ),
        "order_key_required": _(
            "Give each order an external id or an order number, so that importing again "
            "updates it instead of adding it twice."
        ),
        "nonexistent_time": _("This time does not exist (the clock moved forward)."),
    }
    return texts.get(code, code)


def file_problem(code: str) -> str:
    texts = {
        "empty": _("The file is empty."),
        "binary": _("This is not a CSV or Excel (XLSX) file."),
        "no_header": _("The first row must hold the column names."),
        "bad_xlsx": _("This Excel file cannot be read. Save it again as XLSX or CSV."),
        "bad_csv": _("This CSV file cannot be read. Check that it is a text file with columns."),
        "too_large": _("The file is too large."),
        "unknown_column": _("The mapping names a column that the file does not have."),
        "unknown_field": _("The mapping names a field that does not exist for this kind."),
        "missing_required": _("Map a column to every required field: %(fields)s."),
    }
    return texts.get(code, code)
