"""Clients for bench/front_check.py: a small asyncio HTTP/1.1 client, slowloris connections and the scan load.

Every connection goes to 127.0.0.1 and may come from any loopback source address (127.0.1.x), so
that 128 connections can be 128 clients, each with its own per-client limits in nginx.
"""
import asyncio
import itertools
import json
import time
import uuid
from datetime import UTC, datetime


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closed it."""

    def __init__(self, port, source=None):
        self.port, self.source = port, source
        self.reader = self.writer = None

    async def _open(self):
        local = (self.source, 0) if self.source else None
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=local)

    def close(self):
        """Drop the connection (the next request opens a new one)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method, path, headers=None, body=b""):
        """Send one request; returns (status, headers with lower-case names, body, seconds)."""
        started = time.perf_counter()
        if self.writer is None:
            await self._open()
        lines = [f"{method} {path} HTTP/1.1", "Host: fangang.test"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        answer_headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                answer_headers[name.strip().lower()] = value.strip()
        payload = await self.reader.readexactly(int(answer_headers.get("content-length", "0")))
        if answer_headers.get("connection", "").lower() == "close":
            self.close()
        return status, answer_headers, payload, time.perf_counter() - started


async def slowloris(port, count, source, with_body=True):
    """Open `count` connections that send a scan's headers and part of its body (or part of the headers), then go quiet."""
    writers = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        if with_body:
            writer.write(b"POST /api/checkin/v1/scans HTTP/1.1\r\nHost: fangang.test\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"qr\": \"FG1:")
        else:
            writer.write(b"POST /api/checkin/v1/scans HTTP/1.1\r\nHost: fangang.test\r\nContent-Ty")
        await writer.drain()
        writers.append((reader, writer))
    return writers


async def closed_by_server(reader, within):
    """True when the server ends the connection (EOF, reset, or an answer and EOF) within `within` seconds."""
    try:
        async with asyncio.timeout(within):
            while await reader.read(4096):
                pass
        return True
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def scan_body(qr, event_id):
    """A boarding scan as bench/scan.lua sends it."""
    return json.dumps({"qr": qr, "kind": "board", "temperature": 36.5, "symptoms": [], "client_event_id": event_id,
                       "scanned_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "device_id": "front-check"}).encode()


class ScanLoad:
    """`clients` scanners, one connection each from its own address, boarding passengers back to back.

    A scanner refused with 503 retries the same scan (same client_event_id, as the app's offline
    queue does) after `retry_pause` seconds: sooner than the Retry-After it was told, so harder on
    the server than a well-behaved client.
    """

    def __init__(self, port, pairs, clients, seconds, retry_pause=0.2):
        # Once every passenger is boarded, repeats answer already_boarded: still a scan, stored under its own id.
        self.port, self.pairs, self.clients, self.seconds = port, itertools.cycle(pairs), clients, seconds
        self.retry_pause = retry_pause
        self.ok_latencies, self.refused_latencies = [], []
        self.acknowledged, self.refused_ids = set(), set()
        self.statuses, self.codes = {}, {}
        self.refused_without_retry_after = 0
        self.socket_errors = 0

    async def _scanner(self, number, deadline):
        connection = Connection(self.port, source=f"127.0.1.{number + 1}")
        pending = None
        while time.perf_counter() < deadline:
            if pending is None:
                token, qr = next(self.pairs)
                event_id = str(uuid.uuid4())
                pending = (event_id, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                           scan_body(qr, event_id))
            event_id, headers, body = pending
            try:
                status, answer_headers, payload, seconds = await connection.request(
                    "POST", "/api/checkin/v1/scans", headers, body)
            except (OSError, asyncio.IncompleteReadError):
                self.socket_errors += 1
                connection.close()
                await asyncio.sleep(self.retry_pause)
                continue
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                self.ok_latencies.append(seconds)
                self.acknowledged.add(event_id)
                pending = None
                continue
            self.refused_ids.add(event_id)
            if status == 503:
                self.refused_latencies.append(seconds)
                if "retry-after" not in answer_headers:
                    self.refused_without_retry_after += 1
            try:
                code = json.loads(payload)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "not-json"
            self.codes[f"{status} {code}"] = self.codes.get(f"{status} {code}", 0) + 1
            if status != 503:
                pending = None  # a refusal for cause is final; only overload is retried
            await asyncio.sleep(self.retry_pause)
        connection.close()

    async def run(self):
        """Run every scanner until the time is up; returns the wall time."""
        started = time.perf_counter()
        deadline = started + self.seconds
        await asyncio.gather(*(self._scanner(number, deadline) for number in range(self.clients)))
        return time.perf_counter() - started


def percentile(values, share):
    """The `share` (0–1) percentile of `values`, nearest rank; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]
