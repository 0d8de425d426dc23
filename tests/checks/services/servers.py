"""Real servers for the service probe tests: nginx (TLS) and redis-server, on free ports,
and the standard library's HTTP server for small answering stand-ins.

Each runs in the foreground (``daemon off;`` / ``daemonize no``) as a child of
the test process, with every file it writes (pid, logs, temp, data) in the
test's own directory, and is stopped by its pid when the module's tests end.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executable(name: str) -> str:
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if path is None:  # a failure, not a skip: scripts/system-deps.sh installs it
        raise RuntimeError(f"{name} is not installed; run scripts/system-deps.sh")
    return path


def wait_for_ports(process: subprocess.Popen[bytes], ports: list[int], log: Path) -> None:
    """Until every port accepts a connection; fails with the server's log if it died."""
    deadline = time.monotonic() + 15.0
    pending = list(ports)
    while pending:
        if process.poll() is not None:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{text[-2000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"ports {pending} not listening after 15 s")
        try:
            with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True)
class TlsSite:
    """One nginx server block: a certificate, protocols and ciphers."""

    name: str
    certificate: Path
    key: Path
    protocols: str = "TLSv1.2 TLSv1.3"
    ciphers: str = "HIGH:!aNULL:!MD5"


def nginx_config(prefix: Path, sites: dict[str, tuple[TlsSite, int]]) -> str:
    servers = "\n".join(
        f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost 127.0.0.1;
        ssl_certificate {site.certificate};
        ssl_certificate_key {site.key};
        ssl_protocols {site.protocols};
        ssl_ciphers {site.ciphers};
        location / {{ return 200 "{site.name}\\n"; }}
    }}"""
        for site, port in sites.values()
    )
    temp = prefix / "temp"
    return f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{servers}
}}
"""


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps its access lines off the test output."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def threaded_http(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[int]:
    """The standard library's HTTP server on a free 127.0.0.1 port, answering with
    ``handler`` on a thread of its own until the block ends; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def nginx(prefix: Path, sites: list[TlsSite]) -> Iterator[dict[str, int]]:
    """nginx serving every site on its own free port; yields {site name: port}."""
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    placed = {site.name: (site, free_port()) for site in sites}
    config = prefix / "nginx.conf"
    config.write_text(nginx_config(prefix, placed))
    log = prefix / "error.log"
    command = [executable("nginx"), "-p", str(prefix), "-c", str(config), "-e", str(log),
               "-g", "daemon off;"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_ports(process, [port for _, port in placed.values()], log)
        yield {name: port for name, (_, port) in placed.items()}
    finally:
        stop(process)


REDIS_GOOD = {
    "requirepass": "s3cret-test-password",
    "save": '"900 1"',
    "appendonly": "yes",
    "maxmemory": "64mb",
}


def redis_config(directory: Path, port: int, settings: dict[str, str]) -> str:
    lines = [
        f"port {port}",
        "bind 127.0.0.1",
        "daemonize no",
        f"dir {directory}",
        f"logfile {directory / 'redis.log'}",
        "protected-mode yes",
    ]
    lines += [f"{key} {value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


@contextmanager
def redis_servers(root: Path, configs: dict[str, dict[str, str]]) -> Iterator[dict[str, int]]:
    """One redis-server per named configuration; yields {name: port}."""
    processes: list[subprocess.Popen[bytes]] = []
    ports: dict[str, int] = {}
    try:
        for name, settings in configs.items():
            directory = root / name
            directory.mkdir(parents=True)
            port = free_port()
            config = directory / "redis.conf"
            config.write_text(redis_config(directory, port, settings))
            processes.append(
                subprocess.Popen(
                    [executable("redis-server"), str(config)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                )
            )
            ports[name] = port
        for process, (name, port) in zip(processes, ports.items(), strict=True):
            wait_for_ports(process, [port], root / name / "redis.log")
        yield ports
    finally:
        for process in processes:
            stop(process)
