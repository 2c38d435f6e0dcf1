"""Every string a user reads exists in Dutch and English, and the compiled catalogues match."""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "relatiebeheer"
LOCALE = PACKAGE / "locale"


def _entries(po: Path) -> dict[str, dict]:
    """msgid → {"str": [msgstr, …], "fuzzy": bool} for a .po file."""
    entries = {}
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        ids = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not ids:
            continue
        msgid = _text(ids.group(1))
        if not msgid:
            continue
        strs = [_text(s) for s in re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)]
        entries[msgid] = {
            "str": strs,
            "fuzzy": "#, fuzzy" in block,
            "plural": "msgid_plural" in block,
        }
    return entries


def _text(quoted: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', quoted)
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def test_every_dutch_string_is_translated():
    entries = _entries(LOCALE / "nl" / "LC_MESSAGES" / "django.po")
    untranslated = [m for m, e in entries.items() if e["fuzzy"] or not all(e["str"])]
    assert not untranslated, f"untranslated in nl: {untranslated[:10]}"
    assert len(entries) > 300


def test_both_catalogues_hold_the_same_strings():
    nl = set(_entries(LOCALE / "nl" / "LC_MESSAGES" / "django.po"))
    en = set(_entries(LOCALE / "en" / "LC_MESSAGES" / "django.po"))
    assert nl == en


@pytest.mark.parametrize("language", ["nl", "en"])
def test_compiled_catalogue_matches_the_source(language):
    po = _entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for msgid, entry in po.items():
        if entry["plural"] or not entry["str"][0]:
            continue
        assert mo.gettext(msgid) == entry["str"][0], (
            f"{language}: recompile the catalogue ({msgid!r})"
        )


@pytest.mark.skipif(
    not shutil.which("xgettext"), reason="NOTICE: xgettext missing; catalogue freshness not checked"
)
def test_catalogue_covers_every_string_in_the_code(tmp_path):
    """makemessages on a copy of the code finds no string the catalogue lacks."""
    copy = tmp_path / "relatiebeheer"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "nl",
            "--no-obsolete",
            "-i",
            "core/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": ""},
    )
    fresh = set(_entries(copy / "locale" / "nl" / "LC_MESSAGES" / "django.po"))
    committed = set(_entries(LOCALE / "nl" / "LC_MESSAGES" / "django.po"))
    missing = sorted(fresh - committed)
    assert not missing, f"run `make messages` and translate: {missing[:10]}"
