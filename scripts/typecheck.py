"""Type-check the pure core and every service, selector and bulk writer (``make typecheck``).

Which files: ``core/*.py`` and every ``services.py``, ``selectors.py`` and ``bulk.py``
(also in an app's sub-packages), found here so a new one is checked without anyone
listing it. mypy's settings are in ``pyproject.toml`` (``[tool.mypy]``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "relatiebeheer"
CHECKED_NAMES = ("services.py", "selectors.py", "bulk.py")


def checked_files() -> list[str]:
    files = sorted(PACKAGE.glob("core/*.py"))
    for name in CHECKED_NAMES:
        files += sorted(p for p in PACKAGE.rglob(name) if "migrations" not in p.parts)
    return [str(p.relative_to(SRC)) for p in files]


def main() -> int:
    args = [sys.executable, "-m", "mypy", *checked_files()]
    return subprocess.run(args, cwd=SRC, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
