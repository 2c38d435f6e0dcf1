"""Shared helpers for the benchmarks: timing, percentiles, a production server on a free
port, an open-loop HTTP load generator and data sets made with ``relatiebeheer generate``.

Only the standard library (and the project's own virtualenv) is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent
RELATIEBEHEER = str(VENV_BIN / "relatiebeheer")


# --- timing and statistics ----------------------------------------------------------------


@contextlib.contextmanager
def timed(
    label: str, sink: dict[str, float] | None = None, *, quiet: bool = False
) -> Iterator[None]:
    """Time a block; store the seconds in ``sink[label]`` and print them."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        if sink is not None:
            sink[label] = seconds
        if not quiet:
            print(f"  {label}: {seconds:.2f} s", flush=True)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = math.floor(k), math.ceil(k)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


# --- environment and processes -------------------------------------------------------------


def bench_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a benchmark's own SQLite database under ``var_dir``.

    ``DATABASE_URL`` is removed so a benchmark never touches a PostgreSQL database the
    shell happens to point at; ``PYTHONPATH`` lets ``bench.*`` settings modules load.
    """
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["RELATIEBEHEER_VAR"] = str(var_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("LOG_LEVEL", "ERROR")
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], *, quiet: bool = False) -> str:
    """Run a command to completion; its output is returned (and echoed unless quiet)."""
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"{' '.join(args[:3])} … failed with exit status {done.returncode}")
    if not quiet:
        print(done.stdout.rstrip(), flush=True)
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """``relatiebeheer serve`` (gunicorn, gthread) on a free port, stopped on exit."""

    env: dict[str, str]
    workers: int = 2
    threads: int = 4
    ready_path: str = "/"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        args = [
            RELATIEBEHEER, "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", str(self.workers), "--threads", str(self.threads),
        ]  # fmt: skip
        (OUT / "logs").mkdir(parents=True, exist_ok=True)
        self.log = open(OUT / "logs" / f"server-{self.port}.log", "w")
        # Its own process group, so stopping it also stops gunicorn's workers.
        self.process = subprocess.Popen(
            args,
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base_url + self.ready_path, timeout=10):  # noqa: S310
                    break
            except urllib.error.HTTPError:
                break  # it answers (401/404 are answers)
            except OSError:
                time.sleep(0.2)
        else:
            self.__exit__(None, None, None)
            raise RuntimeError("the server did not answer within 120 s")
        return self

    def warm_up(self, paths: list[tuple[str, dict[str, str]]]) -> None:
        """A few requests one after another (closed loop): imports, caches, connections."""
        for path, headers in paths:
            request = urllib.request.Request(self.base_url + path, headers=headers)  # noqa: S310
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(request, timeout=30) as response,  # noqa: S310
            ):
                response.read()

    def restart(self) -> None:
        """A fresh server (after a failed step it may still be working off a backlog)."""
        self.__exit__(None, None, None)
        self.port = free_port()
        self.__enter__()

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# --- open-loop load ------------------------------------------------------------------------


@dataclass
class StepResult:
    """One open-loop step: ``rate`` requests/s for ``duration`` s."""

    label: str
    rate: float
    duration: float
    sent: int
    ok: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    late_p99_ms: float  # how late the generator itself sent (its own health)
    statuses: dict[str, int]

    def held(self, p99_limit_ms: float, error_limit: float = 0.001) -> bool:
        planned = self.sent + self.statuses.get("not sent", 0)
        return self.p99_ms < p99_limit_ms and self.errors <= error_limit * max(planned, 1)

    def as_dict(self) -> dict:
        return asdict(self)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; returns (status, keep the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:  # the body runs to the end of the connection
        await reader.read()
        return status, False
    return status, headers.get("connection", "").lower() != "close"


async def _open_loop(
    host: str,
    port: int,
    request: Callable[[int], tuple[str, dict[str, str]]],
    rate: float,
    duration: float,
    timeout: float,
    backlog_seconds: float,
) -> tuple[list[float], list[float], dict[str, int]]:
    loop = asyncio.get_running_loop()
    idle: list[_Connection] = []
    latencies: list[float] = []
    lateness: list[float] = []
    statuses: dict[str, int] = {}

    async def exchange(conn: _Connection, raw: bytes) -> tuple[int, bool]:
        conn.writer.write(raw)
        await conn.writer.drain()
        return await _read_response(conn.reader)

    async def one(i: int, scheduled: float) -> None:
        path, headers = request(i)
        raw = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n"
        ).encode()
        lateness.append(loop.time() - scheduled)
        status = "error"
        try:
            async with asyncio.timeout(timeout):
                conn = idle.pop() if idle else None
                result = None
                if conn is not None:
                    try:
                        result = await exchange(conn, raw)
                    except (ConnectionError, asyncio.IncompleteReadError):
                        conn.close()  # the server closed an idle keep-alive connection
                        conn = None
                if conn is None:
                    conn = _Connection(*await asyncio.open_connection(host, port))
                    result = await exchange(conn, raw)
                code, keep = result
                status = str(code)
                if keep:
                    idle.append(conn)
                else:
                    conn.close()
        except TimeoutError:
            status = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = "error"
        except asyncio.CancelledError:
            status = "aborted"  # the step was stopped while this one waited
            raise
        finally:
            latencies.append(loop.time() - scheduled)
            statuses[status] = statuses.get(status, 0) + 1

    n = max(1, round(rate * duration))
    interval = 1.0 / rate
    start = loop.time() + 0.05
    pending: set[asyncio.Task] = set()
    max_backlog = max(50, int(rate * backlog_seconds))
    for i in range(n):
        scheduled = start + i * interval
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(pending) > max_backlog:
            # The server is seconds behind: the step has failed; stop piling on. What
            # was not sent counts as errors, what was waiting as "aborted".
            statuses["not sent"] = n - i
            for task in list(pending):
                task.cancel()
            break
        # Sent at its scheduled time whatever happened to earlier requests (open loop);
        # latency counts from the schedule, so a late send counts against the result.
        task = asyncio.create_task(one(i, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending, return_exceptions=True)
    for conn in idle:
        conn.close()
    return latencies, lateness, statuses


def open_loop(
    base_url: str,
    request: Callable[[int], tuple[str, dict[str, str]]],
    *,
    rate: float,
    duration: float,
    label: str = "",
    timeout: float = 10.0,
    backlog_seconds: float = 3.0,
) -> StepResult:
    """Send ``rate`` requests per second for ``duration`` seconds at fixed intervals.

    ``request(i)`` gives the i-th request's path and headers. Requests go out on
    schedule regardless of earlier answers (an open loop, so a slow server cannot slow
    the load down and hide its own slowness), over a pool of keep-alive connections that
    grows as needed. Latency is measured from each request's scheduled time. When more
    than ``backlog_seconds`` worth of requests are outstanding the server cannot keep up:
    the step stops early and the requests not answered count as errors ("aborted").
    """
    host_port = base_url.split("://", 1)[1].rstrip("/")
    host, port = host_port.rsplit(":", 1)
    latencies, lateness, statuses = asyncio.run(
        _open_loop(host, int(port), request, rate, duration, timeout, backlog_seconds)
    )
    ok = sum(count for status, count in statuses.items() if status.startswith("2"))
    ms = [x * 1000 for x in latencies]
    sent = len(latencies)
    return StepResult(
        label=label,
        rate=rate,
        duration=duration,
        sent=sent,
        ok=ok,
        errors=sent + statuses.get("not sent", 0) - ok,
        p50_ms=round(percentile(ms, 50), 2),
        p90_ms=round(percentile(ms, 90), 2),
        p99_ms=round(percentile(ms, 99), 2),
        max_ms=round(max(ms), 2),
        late_p99_ms=round(percentile([x * 1000 for x in lateness], 99), 2),
        statuses=statuses,
    )


def rate_steps(start: float, limit: float) -> Iterator[float]:
    """100, 200, … 600, then +25 % a step (rounded to 50) up to ``limit``."""
    rate = start
    while rate <= limit:
        yield rate
        rate = rate + 100 if rate < 600 else math.ceil(rate * 1.25 / 50) * 50


# --- results -------------------------------------------------------------------------------


def write_json(name: str, data: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
    }
