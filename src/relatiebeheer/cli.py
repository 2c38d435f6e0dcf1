"""The ``relatiebeheer`` command: our own commands plus every Django management command.

Run ``relatiebeheer help`` for the list. Commands that change data act as a named
user (``--as USERNAME``, default the system user "cli") and the audit log says so.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relatiebeheer.config.settings")
    from django.core.management import execute_from_command_line

    from relatiebeheer.audit.context import set_channel

    set_channel("cli")
    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["relatiebeheer", *args])


if __name__ == "__main__":
    main()
