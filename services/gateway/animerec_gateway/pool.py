"""A lean HTTP/1.1 keep-alive client for the gateway's upstream calls (asyncio streams, no httpx).

httpx/httpcore cost 5-9 ms of CPU per proxied request at 64 concurrent clients (the pool checks
every connection's socket on each request); this client keeps idle connections in a LIFO list and
parses only what the gateway needs: status, headers, a Content-Length or chunked body.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Any
from urllib.parse import urlencode, urlsplit

_MAX_HEAD = 64 * 1024


class ConnectFailed(Exception):
    """The connection could not be made (or no pool slot in time): the request surely never left."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ReadTimedOut(Exception):
    """The upstream did not answer within the read budget."""


class Broken(Exception):
    """The exchange failed after the request may have been sent (reset, truncated, unparsable answer)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Headers(dict):
    """Lower-cased header names -> last value; `get` and `in` as on a dict."""


class Answer:
    """An upstream answer: status_code, headers (lower-case names), content bytes, json()."""

    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: Headers, content: bytes):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        """Returns the decoded JSON body (raises ValueError when it is not JSON)."""
        return jsonlib.loads(self.content)


class Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections to one base URL, at most max_connections open at once."""

    def __init__(self, base_url: str, max_connections: int, connect_timeout: float, read_timeout: float):
        url = urlsplit(base_url)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.prefix = url.path.rstrip("/")
        self.host_header = url.netloc.encode()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._idle: list[Conn] = []
        self._sem: asyncio.Semaphore | None = None

    async def request(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
                      headers: dict[str, str] | None = None, timeout: float | None = None) -> Answer:
        """Returns the answer; raises ConnectFailed, ReadTimedOut or Broken."""
        target = self.prefix + path + (("?" + urlencode(params, doseq=True)) if params else "")
        head = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header.decode()}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        body = b""
        if json_body is not None:
            body = jsonlib.dumps(json_body, separators=(",", ":")).encode()
            head.append("Content-Type: application/json")
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.max_connections)
        try:
            await asyncio.wait_for(self._sem.acquire(), self.connect_timeout)
        except TimeoutError:
            raise ConnectFailed("PoolTimeout") from None
        try:
            return await self._exchange(raw, self.read_timeout if timeout is None else timeout)
        finally:
            self._sem.release()

    async def _exchange(self, raw: bytes, read_timeout: float) -> Answer:
        while self._idle:
            conn = self._idle.pop()
            if not conn.usable():
                conn.close()
                continue
            try:  # a reused connection the server closed meanwhile: nothing was read, try a fresh one
                return await self._send(conn, raw, read_timeout, reused=True)
            except _Stale:
                conn.close()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                                    self.connect_timeout)
        except TimeoutError:
            raise ConnectFailed("ConnectTimeout") from None
        except OSError:
            raise ConnectFailed("ConnectError") from None
        return await self._send(Conn(reader, writer), raw, read_timeout, reused=False)

    async def _send(self, conn: Conn, raw: bytes, read_timeout: float, reused: bool) -> Answer:
        keep = False
        try:
            async with asyncio.timeout(read_timeout):
                conn.writer.write(raw)
                try:
                    head = await conn.reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:
                    if reused and not exc.partial:
                        raise _Stale from None
                    raise
                answer, keep = await self._read(conn.reader, head)
        except _Stale:
            raise
        except TimeoutError:
            conn.close()
            raise ReadTimedOut() from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            conn.close()
            if reused and isinstance(exc, ConnectionResetError):
                raise _Stale from None
            raise Broken(type(exc).__name__) from None
        finally:
            if not keep and not conn.writer.is_closing():
                conn.close()
        if keep:
            self._idle.append(conn)
        return answer

    @staticmethod
    async def _read(reader: asyncio.StreamReader, head: bytes) -> tuple[Answer, bool]:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ValueError("not an HTTP/1.x answer")
        status = int(parts[1])
        headers = Headers()
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                data = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(data[:-2])
            content = b"".join(chunks)
        elif "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif status in (204, 304) or 100 <= status < 200:
            content = b""
        else:  # body delimited by the connection's end
            content = await reader.read()
            return Answer(status, headers, content), False
        keep = headers.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
        return Answer(status, headers, content), keep

    async def aclose(self) -> None:
        """Closes every idle connection."""
        while self._idle:
            self._idle.pop().close()


class _Stale(Exception):
    pass
