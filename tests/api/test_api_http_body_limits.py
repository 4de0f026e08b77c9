"""Request bodies are limited on every route while they are read, and slow bodies time out.

Before the fix the limits applied only after the whole body was in memory (300 MB sent to
chat cost +600 MB before the 413), node API routes had no limit at all (300 MB to
``/v1/tx``: +1.1 GB), and a body sent at 1 byte a second was never timed out. Now a
``Content-Length`` over the route's limit is answered 413 before the body is read, a body
without a length is cut off with a 413 once the limit has been read, and a body that takes
longer than ``api.body_timeout`` seconds is answered 408.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from funai.api.guard import ROUTE_LIMITS
from funai.api.jsonbody import DEFAULT_LIMIT
from tests.api.apinode import ApiNode, running_plain_node

pytestmark = pytest.mark.slow

BODY_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    with running_plain_node(tmp_path_factory.mktemp("limits"), api_body_timeout=BODY_TIMEOUT) as n:
        yield n


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def connect(node: ApiNode) -> socket.socket:
    url = urlsplit(node.api)
    return socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=20)


def head(node: ApiNode, path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {node.cookie}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def status_of(sock: socket.socket, timeout: float = 20) -> int:
    sock.settimeout(timeout)
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data.split()[1])


@pytest.mark.parametrize("path", ["/v1/tx", "/v1/generate", "/v1/chat/completions", "/v1/status"])
def test_content_length_over_the_limit_is_refused_before_the_body(node: ApiNode, path: str) -> None:
    sock = connect(node)
    try:
        began = time.monotonic()
        sock.sendall(head(node, path, "Content-Length: 300000000\r\n"))  # no body follows
        assert status_of(sock) == 413
        assert time.monotonic() - began < BODY_TIMEOUT
    finally:
        sock.close()


@pytest.mark.parametrize("path", ["/v1/tx", "/v1/peers/connect", "/v1/completions"])
def test_chunked_body_is_cut_off_at_the_limit(node: ApiNode, path: str) -> None:
    before = rss_mb(node.proc.pid)
    sock = connect(node)
    chunk = b"x" * (1 << 20)
    sent = 0
    try:
        sock.sendall(head(node, path, "Transfer-Encoding: chunked\r\n"))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            for _ in range(300):  # up to 300 MB
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        assert status_of(sock) == 413
    finally:
        sock.close()
    assert sent < 100 << 20, "the node kept reading past the limit"
    assert rss_mb(node.proc.pid) - before < 50


def test_every_route_has_a_limit(node: ApiNode) -> None:
    for path in ["/v1/peers/connect", "/v1/miner", "/v1/bans/add", "/v1/wallet/send"]:
        body = b'{"addr": "' + b"a" * (DEFAULT_LIMIT + 10) + b'"}'
        sock = connect(node)
        try:
            sock.sendall(head(node, path, f"Content-Length: {len(body)}\r\n") + body)
            assert status_of(sock) == 413, path
        finally:
            sock.close()
    assert max(limit for _, limit in ROUTE_LIMITS) <= 8 << 20


def test_slow_body_times_out(node: ApiNode) -> None:
    sock = connect(node)
    try:
        began = time.monotonic()
        sock.sendall(head(node, "/v1/generate", "Content-Length: 100\r\n"))
        got = None
        for _ in range(int(BODY_TIMEOUT * 4)):
            try:
                sock.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(1.0)
            try:
                got = sock.recv(4096)
                break
            except TimeoutError:
                continue
        assert got is not None
        assert got.startswith(b"HTTP/1.1 408"), got
        assert time.monotonic() - began < BODY_TIMEOUT + 3
    finally:
        sock.close()
    # The node still answers.
    assert node.get("/status")["network"] == "regtest"
