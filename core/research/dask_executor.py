"""Sweeps on a Dask distributed cluster.

A sweep is cut into chunks sized for the cluster (a few per worker thread, so
fast workers take more and progress moves steadily); the bars go to the
cluster once (the executor keeps the newest bars it sent, so the segments of
one search share them), each chunk runs ``sweep`` on a worker, and results come
back as they finish, each reported as progress. A stop cancels every chunk not
yet finished on the scheduler, so the cluster does not go on computing for a
search nobody waits for; a chunk already running finishes (Dask cannot
interrupt a task) and is dropped.

Workers need Quarterdeck installed (the same version), and the strategy files
or packages a sweep uses: a chunk names its strategy by id, source and version
(``StrategyRef``), and the worker loads it from its own disk the way this
process did, refusing another version with an error naming the file.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import math
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from distributed import Client, Future

from core.executor_spec import ExecutorUnavailable
from core.market.history import Bars
from core.research.backtest import BacktestConfig
from core.research.executors import SweepTask
from core.research.metrics import METRIC_NAMES
from core.research.strategies import Params, Strategy
from core.research.strategies.remote import StrategyRef
from core.research.sweep import Cancelled, ProgressCallback, sweep

#: Chunks per worker thread: enough to balance uneven workers, few enough that the
#: per-chunk round trip (a few milliseconds) stays small beside the work.
CHUNKS_PER_THREAD = 4
MIN_CHUNK, MAX_CHUNK = 64, 4_096
#: How often a wait for results looks at ``should_stop`` (seconds).
POLL = 0.1
CONNECT_TIMEOUT = 10.0
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h


def _sweep_chunk(strategy: StrategyRef, bars: Bars, combos: list[Params], config: BacktestConfig,
                 start: int) -> np.ndarray:  # fmt: skip
    """Runs on a worker: the local sweep of one chunk, on one thread. Dask runs as many
    chunks at once as the worker has threads; a chunk that also fanned out over every
    core would oversubscribe the machine."""
    _restore_allocator()
    return sweep(strategy.load(), bars, combos, config, start=start, workers=1)


@functools.cache
def _restore_allocator() -> None:
    """Once per worker process: glibc's usual trim and mmap thresholds.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` so they hand
    memory back to the system promptly. That also pins glibc's mmap threshold, and
    the kernels' per-combination arrays were then mapped, unmapped and trimmed on
    every allocation: sweeps on a worker ran at half the speed of the same sweep in a
    plain process (measured in bench/dask_overhead.py). No-op off glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_TRIM_THRESHOLD, 128 * 2**20)
    libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)


def chunk_size(combos: int, threads: int) -> int:
    """Parameter sets per chunk for a sweep of ``combos`` on ``threads`` worker threads."""
    wanted = math.ceil(combos / max(1, threads * CHUNKS_PER_THREAD))
    return max(MIN_CHUNK, min(MAX_CHUNK, wanted))


class DaskExecutor:
    """Sweeps on the cluster whose scheduler is at ``spec`` (``dask://HOST:PORT``)."""

    def __init__(self, spec: str, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.spec = spec
        self.connect_timeout = connect_timeout
        self.address = "tcp://" + spec.partition("://")[2]
        self._client: Client | None = None
        self._connecting = threading.Lock()
        self._names = itertools.count()
        # The newest bars sent, and their handle on the cluster. Holding the handle
        # keeps them there; each scatter gets a fresh key, as a key reused right after
        # its release can be forgotten under the tasks that need it ("lost dependencies").
        self._sent: tuple[Bars, Future] | None = None

    def client(self) -> Client:
        """The connection to the scheduler, made on first use."""
        with self._connecting:
            if self._client is None:
                try:
                    self._client = Client(self.address, timeout=self.connect_timeout,
                                          set_as_default=False)  # fmt: skip
                except (OSError, TimeoutError) as exc:
                    raise ExecutorUnavailable(
                        f"cannot reach the Dask scheduler at {self.spec}: {exc}"
                    ) from None
            return self._client

    def close(self) -> None:
        with self._connecting:
            client, self._client = self._client, None
            self._sent = None
        if client is not None:
            client.close()

    def sweep(
        self,
        strategy: Strategy,
        bars: Bars,
        combos: Sequence[Params],
        config: BacktestConfig,
        *,
        start: int = 0,
        progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> np.ndarray:
        if should_stop():
            raise Cancelled
        client = self.client()
        threads = sum(client.nthreads().values())
        size = chunk_size(len(combos), threads)
        chunks = [range(i, min(i + size, len(combos))) for i in range(0, len(combos), size)]
        data = self._scatter(client, bars)
        name = self._name("sweep", strategy.id)
        ref = StrategyRef.of(strategy)
        futures = []
        for i, rows in enumerate(chunks):
            part = list(combos[rows.start : rows.stop])
            futures.append(client.submit(_sweep_chunk, ref, data, part, config, start,
                                         key=f"{name}-{i}"))  # fmt: skip
        out = np.empty((len(combos), len(METRIC_NAMES)))
        done = 0
        for index, table in _as_completed(client, futures, should_stop):
            rows = chunks[index]
            out[rows.start : rows.stop] = table
            done += len(rows)
            if progress is not None:
                progress(done, len(combos))
        return out

    def sweep_each(
        self,
        tasks: Sequence[SweepTask],
        config: BacktestConfig,
        *,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[np.ndarray]:
        """Every task is submitted at once (one chunk each: a batch's tasks are small)
        and each table is yielded as soon as it and all before it are back."""
        if should_stop():
            raise Cancelled
        client = self.client()
        scattered: dict[int, Future] = {}  # by identity: a batch's datasets repeat
        futures = []
        for strategy, bars, combos in tasks:
            if id(bars) not in scattered:
                scattered[id(bars)] = self._send(client, bars)
            futures.append(client.submit(_sweep_chunk, StrategyRef.of(strategy),
                                         scattered[id(bars)], list(combos), config, 0,
                                         key=self._name("batch", strategy.id)))  # fmt: skip
        finished: dict[int, np.ndarray] = {}
        following = 0
        for index, table in _as_completed(client, futures, should_stop):
            finished[index] = table
            while following in finished:
                yield finished.pop(following)
                following += 1

    def _scatter(self, client: Client, bars: Bars) -> Future:
        """``bars`` on the cluster, sent only if they are not the ones sent last."""
        sent = self._sent
        if sent is not None and sent[0] is bars:
            return sent[1]
        data = self._send(client, bars)
        self._sent = (bars, data)
        return data

    def _send(self, client: Client, bars: Bars) -> Future:
        try:
            (data,) = client.scatter([bars], hash=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorUnavailable(f"Dask scheduler at {self.spec}: {exc}") from None
        return data

    def _name(self, kind: str, strategy_id: str) -> str:
        """A task key readable on the Dask dashboard, unique to this process's call."""
        return f"quarterdeck-{kind}-{strategy_id}-{os.getpid()}-{next(self._names)}"


def _as_completed(
    client: Client, futures: list[Future], should_stop: Callable[[], bool]
) -> Iterator[tuple[int, Any]]:
    """(index, result) of each future as it finishes, looking at ``should_stop`` every
    ``POLL`` seconds meanwhile. On a stop, an error or an abandoned iteration, the
    futures still pending are cancelled on the scheduler."""
    finished: queue.Queue[int] = queue.Queue()
    for index, future in enumerate(futures):
        future.add_done_callback(lambda _done, index=index: finished.put(index))
    remaining = set(range(len(futures)))
    try:
        while remaining:
            if should_stop():
                raise Cancelled
            try:
                index = finished.get(timeout=POLL)
            except queue.Empty:
                continue
            remaining.discard(index)
            yield index, futures[index].result()
    finally:
        pending = [futures[i] for i in remaining]
        if pending:
            client.cancel(pending)
