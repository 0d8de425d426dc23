"""Naming an executor (in settings and on the command line), kept apart from the
executors themselves so that checking a setting loads neither numba nor Dask."""

from __future__ import annotations


class ExecutorUnavailable(Exception):
    """The executor cannot run anything (its cluster is unreachable); says where and why."""


def check_executor_spec(spec: str) -> str:
    """``spec`` if it names an executor (``local``, ``dask://HOST:PORT`` or
    ``tcp://HOST:PORT``, Dask's own spelling), else a ``ValueError`` saying what is
    expected."""
    if spec == "local":
        return spec
    scheme, _, address = spec.partition("://")
    host, _, port = address.rpartition(":")
    if scheme not in ("dask", "tcp") or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{spec!r} is not an executor: use local or dask://HOST:PORT")
    return spec
