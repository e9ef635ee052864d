"""A bounded closed-loop HTTP/1.1 load generator on raw asyncio streams (uvloop when installed).

httpx spends most of a core on its own bookkeeping at a few hundred requests per second, which on a
2-core machine is taken straight from the services under test. This client keeps one keep-alive
connection per virtual client, writes the request bytes itself and reads status line, headers and a
Content-Length (or chunked) body: about ten times cheaper per request. Every request is recorded
(second, kind, status, latency); connection failures count as status 0.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

MIX = (("similar", 0.5), ("user_recs", 0.3), ("cold_start", 0.1), ("search", 0.1))


@dataclass(frozen=True)
class Req:
    kind: str
    method: str
    path: str
    body: bytes = b""


class Mix:
    """Requests of the realistic mix: 50% similar anime, 30% user recommendations, 10% cold start, 10% search.

    Anime and users are drawn with a Zipf-like skew (popular ones more often), as real traffic is.
    """

    def __init__(self, anime_ids: list[int], user_ids: list[int], titles: list[str], seed: int = 7,
                 mix: tuple[tuple[str, float], ...] = MIX):
        self.rng = random.Random(seed)
        self.anime_ids, self.user_ids = anime_ids, user_ids
        words = sorted({w.lower().strip(":,.!?") for t in titles for w in t.split() if len(w) >= 4})
        self.words = words or ["naruto"]
        self.kinds = [k for k, _ in mix]
        self.weights = [w for _, w in mix]

    def _pick(self, items: list[int]) -> int:
        i = min(int(self.rng.paretovariate(1.2)) - 1, len(items) - 1)
        return items[i] if self.rng.random() < 0.8 else self.rng.choice(items)

    def next(self) -> Req:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        if kind == "similar":
            return Req(kind, "GET", f"/api/v1/anime/{self._pick(self.anime_ids)}/similar?n=10")
        if kind == "user_recs":
            return Req(kind, "GET", f"/api/v1/users/{self._pick(self.user_ids)}/recommendations?n=10")
        if kind == "cold_start":
            liked = sorted({self._pick(self.anime_ids) for _ in range(3)})
            return Req(kind, "POST", "/api/v1/recommendations", json.dumps({"liked": liked, "n": 10}).encode())
        word = self.rng.choice(self.words)
        if self.rng.random() < 0.3 and len(word) > 4:  # a typo now and then
            i = self.rng.randrange(len(word) - 1)
            word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return Req(kind, "GET", f"/api/v1/anime?q={word}&limit=10")


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, req: Req, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Returns (status, body); raises OSError/asyncio.TimeoutError/ValueError on a broken exchange."""
        if self.writer is None:
            await self._open()
        head = f"{req.method} {req.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if req.body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(req.body)}\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        self.writer.write(head.encode() + b"\r\n" + req.body)
        try:
            return await asyncio.wait_for(self._read(), self.timeout)
        except BaseException:
            self.close()
            raise

    async def _read(self) -> tuple[int, bytes]:
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        if "content-length" in hdrs:
            body = await self.reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await self.reader.read()
            self.close()
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        return status, body


@dataclass
class Result:
    """Every request's (second since start, kind, status, latency seconds, error code) and the run's length."""

    started: float = 0.0
    duration: float = 0.0
    records: list[tuple[int, str, int, float, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Returns requests/s, latency percentiles (ms), statuses and errors (non-2xx or no answer)."""
        lat = sorted(r[3] for r in self.records)
        pct = lambda p: round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000, 2) if lat else None  # noqa: E731
        statuses = Counter(r[2] for r in self.records)
        by_kind = defaultdict(list)
        for r in self.records:
            by_kind[r[1]].append(r[3])
        return {"requests": len(lat), "seconds": round(self.duration, 2),
                "rps": round(len(lat) / self.duration, 1) if self.duration else 0.0,
                "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": pct(100),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "errors": sum(v for k, v in statuses.items() if not 200 <= k < 300),
                "error_codes": dict(self.codes().most_common(10)),
                "kinds": {k: {"n": len(v), "p99_ms": round(sorted(v)[int(0.99 * (len(v) - 1))] * 1000, 2)}
                          for k, v in sorted(by_kind.items())}}

    def per_second(self) -> dict[int, Counter]:
        """Returns {second: Counter(status)}."""
        out: dict[int, Counter] = defaultdict(Counter)
        for sec, _, status, _, _ in self.records:
            out[sec][status] += 1
        return dict(out)

    def codes(self) -> Counter:
        """Returns the error codes of non-2xx answers (`status:kind:code`)."""
        return Counter(f"{r[2]}:{r[1]}:{r[4]}" for r in self.records if not 200 <= r[2] < 300)


async def run_load(host: str, port: int, mix: Mix, clients: int, seconds: float, timeout: float = 10.0,
                   stop: asyncio.Event | None = None, result: Result | None = None) -> Result:
    """Returns the Result of `clients` closed-loop clients sending mix requests for `seconds`."""
    result = result or Result()
    result.started = time.monotonic()
    deadline = result.started + seconds
    stop = stop or asyncio.Event()

    async def client() -> None:
        conn = Conn(host, port, timeout)
        try:
            while time.monotonic() < deadline and not stop.is_set():
                req = mix.next()
                t0 = time.monotonic()
                code = ""
                try:
                    status, body = await conn.request(req)
                    if status >= 400:
                        try:
                            code = json.loads(body)["error"]["code"]
                        except (ValueError, KeyError, TypeError):
                            code = "?"
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    status, code = 0, type(exc).__name__
                    await asyncio.sleep(0.01)  # a refused connection must not spin
                t1 = time.monotonic()
                result.records.append((int(t0 - result.started), req.kind, status, t1 - t0, code))
        finally:
            conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    result.duration = time.monotonic() - result.started
    return result


def install_uvloop() -> bool:
    """Returns True when uvloop now drives asyncio."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
