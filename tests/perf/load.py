"""What the serving benchmarks (bench_pages.py, bench_registration.py) share: gunicorn started as
production runs it (gunicorn.conf.py, GUNICORN_WORKERS, default 4), a plain HTTP client that speaks as
the balancer does (X-Forwarded-Proto: https), and a load of N concurrent clients for a few seconds
that reports throughput and latency percentiles.

Not part of the application; run by `make bench`."""

from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_KEY = "bench-pages-secret-key-of-forty-characters-long"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HTTPS = {"X-Forwarded-Proto": "https"}


@dataclass
class Client:
    """One HTTP/1.1 connection per request (as a browser behind a balancer does not share them)."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    token: str | None = None

    def send(self, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None) -> tuple[int, bytes]:
        headers = {**HTTPS, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, val = value.split(";", 1)[0].partition("=")
                    if val:
                        self.cookies[key.strip()] = val.strip()
            return response.status, data
        finally:
            connection.close()

    def login(self, email: str, password: str) -> None:
        _, page = self.send("GET", "/connexion")
        match = CSRF_RE.search(page.decode())
        assert match, page[:300]
        body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": match.group(1)}).encode()
        status, _ = self.send("POST", "/connexion", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://{self.host}:{self.port}/connexion"})
        assert status == 302, f"connexion de {email} : {status}"

    def api(self, method: str, path: str, payload: dict | None = None) -> tuple[int, bytes]:
        body = json.dumps(payload).encode() if payload is not None else None
        return self.send(method, f"/api/v1{path}", body, {"Content-Type": "application/json"})


@dataclass
class Load:
    requests: int
    errors: int
    seconds: float
    laps: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        if not self.laps:
            return float("nan")
        ordered = sorted(self.laps)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    @property
    def median(self) -> float:
        return statistics.median(self.laps) * 1000 if self.laps else float("nan")


def load(call, clients: int, seconds: float, *, ok=(200,)) -> Load:
    """`call(index)` → HTTP status, run by `clients` threads for `seconds`; counts the answers in `ok`."""
    counts, errors, laps = [0] * clients, [0] * clients, [[] for _ in range(clients)]
    stop = time.monotonic() + seconds
    start = time.monotonic()

    def run(index: int) -> None:
        while time.monotonic() < stop:
            began = time.perf_counter()
            try:
                status = call(index)
            except OSError:
                errors[index] += 1
                continue
            laps[index].append(time.perf_counter() - began)
            if status in ok:
                counts[index] += 1
            else:
                errors[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Load(sum(counts), sum(errors), time.monotonic() - start, [lap for per in laps for lap in per])


def rss_mb(pid: int) -> int:
    """A process's resident memory (VmRSS), in MB: the issue's measure of a worker's memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def pss_mb(pid: int) -> int:
    """Its proportional share (Pss): the pages shared with the master (gunicorn's preload) counted in part."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) // 1024
    return 0


def children(master: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


class Gunicorn:
    """gunicorn -c gunicorn.conf.py on `port`, production settings, against `database_url`."""

    def __init__(self, database_url: str, port: int, **extra: str):
        self.folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
        self.port = port
        self.log = self.folder / "gunicorn.log"
        env = {k: v for k, v in os.environ.items()
               if k not in ("APP_TODAY", "TEST_DATABASE_URL", "MAIL_DEV_MAILBOX", "OUTBOX_DELIVERY")}
        env.update(APP_ENV="production", SECRET_KEY=SECRET_KEY, DATABASE_URL=database_url,
                   REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
                   BASE_URL="https://certifia.test", MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port + 9),
                   UPLOAD_DIR=str(self.folder / "uploads"), TRUSTED_PROXIES="1", LOG_JSON="0",
                   GUNICORN_WORKERS=os.environ.get("GUNICORN_WORKERS", "4"), GUNICORN_THREADS="4",
                   GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_LOG_LEVEL="warning", PYTHONUNBUFFERED="1")
        env.update(extra)
        self.env = env
        self.process = None

    def __enter__(self) -> Gunicorn:
        import subprocess

        self._out = self.log.open("wb")
        self.process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=self.env,
                                        stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn s'est arrêté : {self.log.read_text()[-2000:]}")
            try:
                if Client("127.0.0.1", self.port).send("GET", "/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn ne répond pas sur {self.port} : {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except Exception:
                self.process.kill()
        self._out.close()

    def client(self, **kwargs) -> Client:
        return Client("127.0.0.1", self.port, **kwargs)
