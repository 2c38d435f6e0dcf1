"""Benchmark the predictive-CLV core against the established ``lifetimes`` library.

Simulates a customer base from BG/NBD + Gamma-Gamma with the CDNOW parameters of
Fader, Hardie & Lee (fixed seed), fits both models with
:mod:`relatiebeheer.core.btyd` and, side by side, with ``lifetimes`` 0.11.3
(``BetaGeoFitter`` + ``GammaGammaFitter``) on the same summary, and prints times, the
ratio, peak memory and the parameter differences (which must stay within 0.1 %).

``lifetimes`` is not a project dependency and needs an older stack (NumPy < 2, SciPy
< 1.13, pandas < 2.2), so it runs in a throwaway virtualenv under ``bench/out/``
(git-ignored), created on first use from PyPI with the pins in ``PEER_PINS``.

Usage (from the repository root)::

    .venv/bin/python bench/bench_btyd.py                  # 100k customers vs lifetimes
    .venv/bin/python bench/bench_btyd.py --no-peers       # ours only
    .venv/bin/python bench/bench_btyd.py --min-repeat-study   # evidence for MIN_REPEAT_BUYERS

Exit status 1 when a parameter differs from lifetimes by more than 0.1 %.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from relatiebeheer.core import btyd  # noqa: E402

OUT = ROOT / "bench" / "out"
PEER_VENV = OUT / ".venv-peers"
PEER_PINS = [
    "lifetimes==0.11.3",
    "numpy==1.26.4",
    "scipy==1.12.0",
    "pandas==2.1.4",
    "autograd==1.9.1",
    "dill==0.4.1",
]
TRUE_BGNBD = btyd.BGNBDParams(r=0.2426, alpha=4.4136, a=0.7930, b=2.4262)
TRUE_GG = btyd.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
TOLERANCE = 1e-3  # relative, parameters ours vs lifetimes

PEER_SCRIPT = r"""
import json, resource, sys, time, tracemalloc, warnings
warnings.simplefilter("ignore")
import numpy as np
import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter

data = np.load(sys.argv[1])
repeat = int(sys.argv[2])
x, tx, T, m = data["x"], data["tx"], data["T"], data["m"]
buyers = x > 0

def fit():
    t0 = time.perf_counter()
    bg = BetaGeoFitter().fit(x, tx, T)
    t1 = time.perf_counter()
    gg = GammaGammaFitter().fit(x[buyers], m[buyers])
    t2 = time.perf_counter()
    return bg, gg, t1 - t0, t2 - t1

runs = [fit() for _ in range(repeat)]
bg, gg = runs[-1][0], runs[-1][1]
tracemalloc.start()
fit()
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({
    "version": lifetimes.__version__,
    "bgnbd_seconds": [r[2] for r in runs],
    "gg_seconds": [r[3] for r in runs],
    "bgnbd": {k: float(v) for k, v in bg.params_.items()},
    "gamma_gamma": {k: float(v) for k, v in gg.params_.items()},
    "peak_traced_bytes": peak,
    "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
"""


def simulate(customers: int, seed: int) -> dict[str, np.ndarray]:
    """A CDNOW-like base: first purchases over 12 weeks, 39-week calibration, days."""
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, 84, customers)
    T = (273 - first_day) / 7.0
    x, t_x = btyd.simulate_bgnbd(TRUE_BGNBD, T, rng)
    t_x = np.floor(t_x * 7.0) / 7.0  # purchases fall on whole days
    m = btyd.simulate_gamma_gamma(TRUE_GG, x, rng)
    m = np.where(x > 0, np.maximum(np.round(m, 2), 0.01), 0.0)  # whole cents
    return {"x": x, "tx": t_x, "T": T, "m": m}


def fit_ours(
    d: dict[str, np.ndarray],
) -> tuple[btyd.BGNBDParams, btyd.GammaGammaParams, float, float]:
    t0 = time.perf_counter()
    bg = btyd.fit_bgnbd(d["x"], d["tx"], d["T"])
    t1 = time.perf_counter()
    gg = btyd.fit_gamma_gamma(d["x"], d["m"])
    t2 = time.perf_counter()
    return bg, gg, t1 - t0, t2 - t1


def ensure_peer_venv() -> Path:
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-c", "import lifetimes, autograd, pandas"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {PEER_VENV.relative_to(ROOT)} with {' '.join(PEER_PINS)} ...", flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEER_PINS],
        check=True,
    )
    return python


def run_peer(d: dict[str, np.ndarray], repeat: int) -> dict:
    python = ensure_peer_venv()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "btyd_summary.npz"
    np.savez(path, **d)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [str(python), "-c", PEER_SCRIPT, str(path), str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"lifetimes run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_summary(transactions: int, seed: int) -> list[tuple[str, float]]:
    """Best-of-3 times of summarise_transactions on random transactions."""
    rng = np.random.default_rng(seed)
    customers = max(transactions // 10, 1)
    ids = rng.integers(0, customers, transactions)
    dates = np.datetime64("2023-01-01") + rng.integers(0, 730, transactions).astype(
        "timedelta64[D]"
    )
    amounts = rng.integers(100, 100_000, transactions) / 100
    variants = [
        ("integer ids", ids),
        ("string ids (≤ 8 chars)", np.char.add("C", ids.astype(str))),
        ("string ids (22 chars)", np.char.add("customer-", np.char.zfill(ids.astype(str), 13))),
    ]
    out = []
    for label, key in variants:
        if key.dtype.kind == "U":  # as narrow as the longest id, like ids read from a file
            key = key.astype(f"U{int(np.strings.str_len(key).max())}")
        best = min(
            _timed(lambda key=key: btyd.summarise_transactions(key, dates, amounts, "2024-06-30"))
            for _ in range(3)
        )
        out.append((label, best))
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def benchmark(args: argparse.Namespace) -> int:
    d = simulate(args.customers, args.seed)
    patterns = np.unique(np.column_stack([d["x"], d["tx"], d["T"]]), axis=0).shape[0]
    buyers = int(np.count_nonzero(d["x"]))
    print(
        f"BG/NBD + Gamma-Gamma on {args.customers:,} simulated customers (seed {args.seed}, "
        f"CDNOW parameters): {patterns:,} distinct (x, t_x, T), {buyers:,} repeat buyers"
    )
    runs = [fit_ours(d) for _ in range(args.repeat)]
    bg, gg = runs[-1][0], runs[-1][1]
    tracemalloc.start()
    fit_ours(d)
    our_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    our_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    ours = {
        "bgnbd": min(r[2] for r in runs),
        "gg": min(r[3] for r in runs),
        "both": min(r[2] + r[3] for r in runs),
        "first": runs[0][2] + runs[0][3],
    }

    peer = None if args.no_peers else run_peer(d, args.repeat)
    rows = [("BG/NBD fit", "bgnbd"), ("Gamma-Gamma fit", "gg"), ("both fits", "both")]
    print()
    head = f"{'best of ' + str(args.repeat):<24}{'ours':>12}"
    if peer:
        head += f"{'lifetimes ' + peer['version']:>20}{'ratio':>10}"
        theirs = {
            "bgnbd": min(peer["bgnbd_seconds"]),
            "gg": min(peer["gg_seconds"]),
            "both": min(
                a + b for a, b in zip(peer["bgnbd_seconds"], peer["gg_seconds"], strict=True)
            ),
        }
    print(head)
    for label, key in rows:
        line = f"{label:<24}{ours[key]:>10.3f} s"
        if peer:
            line += f"{theirs[key]:>18.3f} s{theirs[key] / ours[key]:>9.1f}×"
        print(line)
    line = f"{'peak traced memory':<24}{_mib(our_peak):>12}"
    if peer:
        line += f"{_mib(peer['peak_traced_bytes']):>20}"
    print(line)
    line = f"{'max RSS of the process':<24}{_mib(our_rss):>12}"
    if peer:
        line += f"{_mib(peer['max_rss_bytes']):>20}"
    print(line)
    print(f"(ours, first run incl. warm-up: {ours['first']:.3f} s)")

    worst = 0.0
    print()
    print(f"{'parameter':<12}{'ours':>14}{'lifetimes':>14}{'rel. diff':>12}{'true':>10}")
    pairs = [
        ("r", bg.r, "bgnbd", "r", TRUE_BGNBD.r),
        ("alpha", bg.alpha, "bgnbd", "alpha", TRUE_BGNBD.alpha),
        ("a", bg.a, "bgnbd", "a", TRUE_BGNBD.a),
        ("b", bg.b, "bgnbd", "b", TRUE_BGNBD.b),
        ("p", gg.p, "gamma_gamma", "p", TRUE_GG.p),
        ("q", gg.q, "gamma_gamma", "q", TRUE_GG.q),
        ("gamma", gg.gamma, "gamma_gamma", "v", TRUE_GG.gamma),
    ]
    for name, value, model, key, true in pairs:
        line = f"{name:<12}{value:>14.6f}"
        if peer:
            other = peer[model][key]
            diff = abs(value - other) / abs(other)
            worst = max(worst, diff)
            line += f"{other:>14.6f}{diff:>12.2e}"
        else:
            line += f"{'':>14}{'':>12}"
        print(line + f"{true:>10.4f}")
    print(f"log-likelihood: BG/NBD {bg.log_likelihood:,.2f}, Gamma-Gamma {gg.log_likelihood:,.2f}")

    if args.summary_transactions:
        print()
        print(f"summarise_transactions, {args.summary_transactions:,} transactions (best of 3):")
        for label, seconds in time_summary(args.summary_transactions, args.seed):
            print(f"  {label:<26}{seconds:>8.3f} s")

    if peer:
        verdict = "OK" if worst <= TOLERANCE else "FAIL"
        print(f"\nlargest parameter difference {worst:.2e} (limit {TOLERANCE:.0e}): {verdict}")
        return 0 if worst <= TOLERANCE else 1
    return 0


def min_repeat_study(args: argparse.Namespace) -> int:
    """How often fits fail and how far they miss, by number of repeat buyers."""
    rng = np.random.default_rng(args.seed)
    print("repeat buyers | BG/NBD refused | p90 error E[orders 52 wk] | Gamma-Gamma refused")
    for customers in (60, 125, 250, 500):
        refused = gg_refused = 0
        errors, buyers = [], []
        for _ in range(args.study_runs):
            T = (273 - rng.integers(0, 84, customers)) / 7.0
            x, t_x = btyd.simulate_bgnbd(TRUE_BGNBD, T, rng)
            m = btyd.simulate_gamma_gamma(TRUE_GG, x, rng)
            buyers.append(np.count_nonzero(x))
            try:
                fit = btyd.fit_bgnbd(x, t_x, T, min_customers=1, min_repeat_buyers=1)
            except btyd.BTYDError:
                refused += 1
            else:
                truth = btyd.conditional_expected_purchases(TRUE_BGNBD, 52, x, t_x, T).sum()
                guess = btyd.conditional_expected_purchases(fit, 52, x, t_x, T).sum()
                errors.append(abs(guess / truth - 1))
            try:
                btyd.fit_gamma_gamma(x, m, min_customers=1)
            except btyd.BTYDError:
                gg_refused += 1
        runs = args.study_runs
        print(
            f"{np.mean(buyers):>13.0f} | {refused / runs:>14.1%} | "
            f"{np.quantile(errors, 0.9):>25.1%} | {gg_refused / runs:>19.1%}"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is shown)")
    parser.add_argument("--no-peers", action="store_true", help="skip lifetimes")
    parser.add_argument(
        "--summary-transactions",
        type=int,
        default=2_000_000,
        help="also time the summary of this many transactions (0: skip)",
    )
    parser.add_argument("--min-repeat-study", action="store_true")
    parser.add_argument("--study-runs", type=int, default=300)
    args = parser.parse_args()
    if args.min_repeat_study:
        return min_repeat_study(args)
    return benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
