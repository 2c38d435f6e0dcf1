"""Run every benchmark in ``bench/``: each ``bench_*.py`` that defines ``main()``.

Usage (from the repository root)::

    .venv/bin/python -m bench                 # all, full size
    .venv/bin/python -m bench --quick         # smoke run of those that support --quick
    .venv/bin/python -m bench api btyd        # only bench_api.py and bench_btyd.py
    .venv/bin/python -m bench --list

Each benchmark runs in its own process (they configure Django differently) with its
arguments in ``sys.argv``; ``main(argv)`` gets them directly if it takes a parameter.
With ``--quick``, a benchmark without a ``--quick`` option is skipped. The exit status
is the number of benchmarks that failed.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

RUNNER = """
import inspect, sys
name, args = sys.argv[1], sys.argv[2:]
sys.argv = [f"bench/{name}.py", *args]
module = __import__(f"bench.{name}", fromlist=["main"])
takes_argv = bool(inspect.signature(module.main).parameters)
status = module.main(args) if takes_argv else module.main()
sys.exit(status or 0)
"""


def discover() -> dict[str, dict]:
    """``bench_*.py`` files with a top-level ``main``, found without importing them."""
    found = {}
    for path in sorted(BENCH.glob("bench_*.py")):
        source = path.read_text()
        tree = ast.parse(source, filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            found[path.stem] = {"path": path, "quick": '"--quick"' in source}
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", help="benchmarks to run (api for bench_api.py); default all"
    )
    parser.add_argument("--quick", action="store_true", help="short smoke runs")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args(argv)
    benches = discover()
    if args.list:
        for name, info in benches.items():
            print(f"{name}{'' if info['quick'] else '   (no --quick)'}")
        return 0
    wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in args.names}
    unknown = wanted - set(benches)
    if unknown:
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
    summary = []
    for name, info in benches.items():
        if wanted and name not in wanted:
            continue
        if args.quick and not info["quick"]:
            summary.append((name, "skipped (no --quick)", 0.0))
            continue
        print(f"\n===== {name} =====", flush=True)
        started = time.perf_counter()
        extra = ["--quick"] if args.quick else []
        status = subprocess.call([sys.executable, "-c", RUNNER, name, *extra], cwd=ROOT)
        summary.append(
            (
                name,
                "ok" if status == 0 else f"FAILED (exit {status})",
                time.perf_counter() - started,
            )
        )
    print("\n===== summary =====")
    for name, outcome, seconds in summary:
        print(f"{name:<28}{outcome:<28}{seconds:>8.0f} s")
    return sum(1 for _, outcome, _ in summary if outcome.startswith("FAILED"))


if __name__ == "__main__":
    sys.exit(main())
