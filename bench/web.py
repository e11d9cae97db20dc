"""The ledger and board pages under load vs a bare Flask page reading the same 50 rows.

Both apps run under gunicorn (2 sync workers, 127.0.0.1); the load comes from ``wrk``
(1 thread, 16 connections, keep-alive) with a logged-in session cookie obtained through
the real login form (CSRF token included).  The user is a city's inspection office, whose
ledger and board cover that city's subtree.  Requests/s, p99 latency and errors.  The bare
page is measured before and after each page and averaged, so that a shared machine's load
drifting during the run moves the floor with the page.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench import generate
from bench.common import Results, Row, Settings

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gunicorn(app: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level",
         "warning", app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                err = proc.stderr.read()[-300:] if proc.stderr else b""
                raise RuntimeError(f"gunicorn {app} exited: {err!r}") from None
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn {app} did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def login(port: int, username: str, password: str) -> str:
    """Log in through the form; return the Cookie header value."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    body = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert token, "no CSRF token on the login form"
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "username": username, "password": password, "next": ""}
    )
    conn.request("POST", "/login", form, {"Cookie": cookie,
                 "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    resp = conn.getresponse()
    resp.read()
    if resp.status != 303:
        raise RuntimeError(f"login failed: HTTP {resp.status}")
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    conn.close()
    return cookie


def wrk(url: str, cookie: str, seconds: float) -> dict[str, Any]:
    """Warm up 2 s, then ``wrk -t1 -c16 --latency``; req/s, p99 ms, errors."""
    base = ["wrk", "-t1", "-c16", "--latency", "-H", f"Cookie: {cookie}"]
    subprocess.run([*base, "-d2s", url], capture_output=True, check=True)
    out = subprocess.run([*base, f"-d{int(seconds)}s", url], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert m, out
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(x) for x in sock.groups()) if sock else 0
    )
    return {"rps": rps, "p99": p99, "errors": errors}


def _mean(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The floor measured before and after a page, averaged (the load may drift between)."""
    return {k: (a[k] + b[k]) / 2 for k in ("rps", "p99", "errors")}


def check_page(port: int, path: str, cookie: str) -> None:
    """The page answers 200 for the logged-in user (not a login redirect)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {resp.status}")


def run(cfg: Settings, results: Results) -> None:
    """Ledger and board pages vs the bare page, on SQLite (and PostgreSQL in --full)."""
    if not shutil.which("wrk"):
        results.note("web figure skipped: wrk not installed (apt-get install -y wrk)")
        return
    try:
        import web  # noqa: F401
        from web import auth  # noqa: F401
    except ImportError:
        results.note("web figure skipped: web UI not available")
        return
    kinds = cfg.dbs if not cfg.quick else tuple(k for k in cfg.dbs if k == "sqlite")
    seconds = 10 if not cfg.quick else 5
    for kind in kinds:
        ds: generate.Dataset = cfg.cache[f"base:{kind}"]
        city = ds.city_ids[0]
        user = f"u{ds.users[(city, 'office')]}.office"
        inst = tempfile.mkdtemp(dir=cfg.workdir)
        env = dict(os.environ, RECTIFLOW_INSTANCE=inst, RECTIFLOW_DATABASE_URL=ds.url,
                   RECTIFLOW_SECRET_KEY="bench-secret", BENCH_DB_URL=ds.url,
                   PYTHONPATH=str(ROOT))  # fmt: skip
        port, bare_port = _free_port(), _free_port()
        app = _gunicorn("web:create_app()", env, port)
        bare = _gunicorn("bench.bare_app:app", env, bare_port)
        try:
            cookie = login(port, user, generate.PASSWORD)
            prefix = f"/1/{city}/"
            check_page(port, "/ledger", cookie)
            check_page(bare_port, f"/bare?prefix={prefix}", "")
            bare_url = f"http://127.0.0.1:{bare_port}/bare?prefix={prefix}"
            before = wrk(bare_url, "", seconds)
            for page in ("/ledger", "/board"):
                check_page(port, page, cookie)
                got = wrk(f"http://127.0.0.1:{port}{page}", cookie, seconds)
                after = wrk(bare_url, "", seconds)
                floor = _mean(before, after)
                before = after
                ok = (got["rps"] >= 0.5 * floor["rps"] and got["p99"] <= 50
                      and got["errors"] == 0)  # fmt: skip
                results.add(Row("web", kind, f"{page} (city office), req/s", got["rps"], "req/s",
                                floor["rps"], f"bare Flask page, 50 rows, p99 {floor['p99']:.1f} ms",
                                "≥ 0.5× bare, p99 ≤ 50 ms, 0 errors", ok,
                                f"p99 {got['p99']:.1f} ms, {got['errors']} errors"))  # fmt: skip
        finally:
            _stop(app)
            _stop(bare)
