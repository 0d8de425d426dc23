"""A real uvicorn server on 127.0.0.1 per test module, serving every fixture configuration."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.types import ASGIApp

from checks import ProbeContext
from checks.probes import Target

from .trading_api import CONFIGS, VALID_API_KEY, RedirectServer, TradingAPIServer

MakeContext = Callable[..., ProbeContext]


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yield its root URL."""
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
    # without it every keep-alive answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="critical",  # the debug configuration's exceptions are expected
        access_log=False,
        server_header=False,  # the fixture decides what Server header to send
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def api_root() -> Iterator[str]:
    """The trading API server's root URL; configurations live under ``/{instance}/{config}``."""
    with serve(TradingAPIServer()) as root:
        yield root


@pytest.fixture(scope="module")
def redirect_root() -> Iterator[str]:
    """A second server, the plain-HTTP front: ``/{good,offhost,to_http,none}/``."""
    with serve(RedirectServer()) as root:
        yield root


def base_url(api_root: str, config: str) -> str:
    """A fresh instance of ``config``: its own rate-limit and login state."""
    assert config in CONFIGS, config
    return f"{api_root}/{uuid.uuid4().hex[:12]}/{config}"


@pytest.fixture
def make_ctx(ctx: ProbeContext, api_root: str) -> MakeContext:
    """``make_ctx("good")``: a probe context whose target is a fresh instance of a configuration;
    keyword arguments override the target's fields."""

    def make(config: str = "good", **target: object) -> ProbeContext:
        fields: dict[str, object] = {
            "base_url": base_url(api_root, config),
            "api_key": VALID_API_KEY,
        }
        fields.update(target)
        return dataclasses.replace(ctx, target=Target(**fields))  # type: ignore[arg-type]

    return make


@pytest.fixture
def closed_port_url() -> str:
    """An http URL on which nothing listens (a port just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
