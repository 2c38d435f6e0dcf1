"""Every string a user reads exists in Dutch and English, and the compiled catalogues match.

The package catalogue and the catalogues apps keep of their own are all checked (see
scripts/messages.py).
"""

import gettext
import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "relatiebeheer"

_spec = importlib.util.spec_from_file_location("messages_script", ROOT / "scripts" / "messages.py")
messages_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(messages_script)

CATALOGUES = messages_script.catalogues(PACKAGE)


def _entries(po: Path) -> dict[str, dict]:
    """msgid → {"str": [msgstr, …], "fuzzy": bool, "plural": bool} for a .po file."""
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


@pytest.mark.parametrize("locale", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_dutch_string_is_translated(locale):
    entries = _entries(locale / "nl" / "LC_MESSAGES" / "django.po")
    untranslated = [m for m, e in entries.items() if e["fuzzy"] or not all(e["str"])]
    assert not untranslated, f"untranslated in {locale}: {untranslated[:10]}"


def test_the_package_catalogue_is_substantial():
    assert len(_entries(PACKAGE / "locale" / "nl" / "LC_MESSAGES" / "django.po")) > 300


@pytest.mark.parametrize("locale", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_both_languages_hold_the_same_strings(locale):
    nl = set(_entries(locale / "nl" / "LC_MESSAGES" / "django.po"))
    en = set(_entries(locale / "en" / "LC_MESSAGES" / "django.po"))
    assert nl == en


@pytest.mark.parametrize("locale", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
@pytest.mark.parametrize("language", ["nl", "en"])
def test_compiled_catalogue_matches_the_source(locale, language):
    po = _entries(locale / language / "LC_MESSAGES" / "django.po")
    with open(locale / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for msgid, entry in po.items():
        if entry["plural"] or not entry["str"][0]:
            continue
        assert mo.gettext(msgid) == entry["str"][0], f"{language}: run `make messages` ({msgid!r})"


@pytest.mark.skipif(
    not shutil.which("xgettext"), reason="NOTICE: xgettext missing; catalogue freshness not checked"
)
def test_catalogues_cover_every_string_in_the_code(tmp_path):
    """Extracting the strings again from a copy of the code finds none the catalogues lack."""
    messages_script.main(["--check", str(tmp_path)])
    copy = tmp_path / "relatiebeheer"
    missing = []
    for locale in messages_script.catalogues(copy):
        fresh = set(_entries(locale / "nl" / "LC_MESSAGES" / "django.po"))
        committed = set(
            _entries(PACKAGE / locale.relative_to(copy) / "nl" / "LC_MESSAGES" / "django.po")
        )
        missing += sorted(fresh - committed)
    assert not missing, f"run `make messages` and translate: {missing[:10]}"
