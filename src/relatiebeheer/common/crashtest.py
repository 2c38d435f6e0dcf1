"""A hold point for the crash tests (tests that SIGKILL a real process half-way).

``RELATIEBEHEER_TEST_PAUSE="point:seconds"`` makes the process sleep at that point, so a
test can kill it there, inside the transaction it wants to prove atomic. Unset (always,
outside those tests) it costs one environment lookup.
"""

import os
import sys
import time

ENVIRONMENT_VARIABLE = "RELATIEBEHEER_TEST_PAUSE"


def pause_here(point: str) -> None:
    wanted = os.environ.get(ENVIRONMENT_VARIABLE, "")
    if wanted.startswith(point + ":"):
        print(f"paused at {point}", file=sys.stderr, flush=True)  # the test's cue to kill
        time.sleep(float(wanted.split(":", 1)[1]))
