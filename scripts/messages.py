"""Extract and compile the translation catalogues (``make messages``).

The package catalogue (``src/relatiebeheer/locale``) holds the strings of every app
except those with a catalogue of their own (``<app>/locale/nl/LC_MESSAGES/django.po``):
an app that owns its catalogue can be translated without touching the shared file.

Usage: python scripts/messages.py [--check DIR]
  without --check: update the catalogues in place (then translate and run again to compile);
  with --check DIR: extract into a copy under DIR and print the msgids that the
  committed catalogues lack (used by tests/test_i18n.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "relatiebeheer"
LANGUAGES = ("nl", "en")


def owning_apps(root: Path) -> list[Path]:
    return sorted(
        p.parent.parent.parent.parent for p in root.glob("*/locale/nl/LC_MESSAGES/django.po")
    )


def makemessages(cwd: Path, ignore: list[str]) -> None:
    # -P: the app's own directory must not shadow the standard library (an app's
    # ``selectors.py`` would hide the ``selectors`` module that subprocess needs).
    args = [
        sys.executable,
        "-P",
        "-m",
        "django",
        "makemessages",
        "--no-obsolete",
        "-i",
        "core/*",
        "-i",
        "static/*",
    ]
    for language in LANGUAGES:
        args += ["-l", language]
    for pattern in ignore:
        args += ["-i", pattern]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": ""}
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=env)


def extract(root: Path) -> None:
    apps = owning_apps(root)
    makemessages(root, [f"{app.name}/*" for app in apps])
    for app in apps:
        makemessages(app, [])


def catalogues(root: Path) -> list[Path]:
    return [root / "locale"] + [app / "locale" for app in owning_apps(root)]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        copy = Path(argv[1]) / "relatiebeheer"
        shutil.copytree(
            PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo")
        )
        extract(copy)
        return 0
    extract(PACKAGE)
    for locale in catalogues(PACKAGE):
        subprocess.run(
            [sys.executable, "-P", "-m", "django", "compilemessages"],
            cwd=locale.parent,
            check=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
