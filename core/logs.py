"""Logging to a rotating JSON-lines file in the data directory, never to the terminal,
and to an in-memory tail of the newest records that the console shows live.

Every record carries the correlation ids bound where it was logged: a
``request_id`` while the HTTP server answers a request, a ``job_id`` in a
job's thread, a ``session_id`` (and ``user``) in an SSH session's app. They
are structlog context variables, so they follow the code into the tasks and
threads it starts (``asyncio.to_thread`` copies the context) and any module
keeps logging with plain ``logging``.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import logging
import logging.handlers
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars, get_contextvars
from structlog.stdlib import ProcessorFormatter

TAIL_CAPACITY = 5_000

_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def correlated(**ids: object) -> contextlib.AbstractContextManager[None]:
    """Bind correlation ids (``request_id=…``, ``job_id=…``) to every record logged
    in this context, and in the tasks and threads started from it, until it ends."""
    return bound_contextvars(**ids)


class CorrelationFilter(logging.Filter):
    """Copies the bound correlation ids onto each record (a field the call site set
    itself wins), so the file and the console's tail both show them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in get_contextvars().items():
            record.__dict__.setdefault(key, value)
        return True


#: One record per HTTP request the API answers (``console.api.edges``).
ACCESS_LOGGER = "console.api.access"
#: Loggers whose records go to the log file only, not to the console's Logs screen,
#: which a record per request would flood (and wake a thousand times a second).
UNTAILED = frozenset({ACCESS_LOGGER})


class JsonLines(logging.Formatter):
    """One JSON line a record. A plain record's fields are written directly, in the order
    structlog's chain writes them; a record with a traceback goes through that chain,
    which renders it. The chain costs about 0.1 ms a record: at a thousand API requests
    a second, each with its access record, that was the event loop's whole budget."""

    def __init__(self) -> None:
        super().__init__()
        self._with_traceback = _structlog_formatter()

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return self._with_traceback.format(record)
        when = dt.datetime.fromtimestamp(record.created, dt.UTC)
        line: dict[str, object] = {"level": record.levelname, "logger": record.name}
        line.update((key, value) for key, value in record.__dict__.items()
                    if key not in _STANDARD_ATTRIBUTES)  # fmt: skip
        line["time"] = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line["message"] = record.getMessage()
        return json.dumps(line, default=str)


def json_lines_formatter() -> logging.Formatter:
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the
    record's extra fields and correlation ids, and the traceback if any."""
    return JsonLines()


def _structlog_formatter() -> logging.Formatter:
    return ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        ],
        processors=[
            ProcessorFormatter.remove_processors_meta,
            _upper_level,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(default=str),
        ],
    )


def _upper_level(
    _logger: object, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event["level"] = str(event.get("level", "")).upper()
    return event


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log record as the tail keeps it: plain text, fixed when it was logged."""

    seq: int
    ts: float
    level: str
    levelno: int
    logger: str
    message: str
    fields: tuple[tuple[str, str], ...] = ()  # the record's extra fields, as text
    exception: str = ""  # the traceback's last line, if the record carried one


LogListener = Callable[[int], None]


class LogTail(logging.Handler):
    """Keeps the newest ``capacity`` records and tells listeners the newest one's number.

    Records arrive on any thread. ``emit`` never blocks for long (a short lock
    around a deque append) and never raises: a record that cannot be turned
    into text is kept with a note instead, and a failing listener is counted
    in ``errors``. A record logged by a listener while it is being told (on
    the same thread) is dropped, so a listener that logs cannot feed itself.
    """

    def __init__(self, capacity: int = TAIL_CAPACITY) -> None:
        super().__init__()
        self._entries: collections.deque[LogEntry] = collections.deque(maxlen=capacity)
        self._listeners: list[LogListener] = []
        self._telling = threading.local()
        self.capacity = capacity
        self.addFilter(CorrelationFilter())
        self.last_seq = 0
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._telling, "active", False) or record.name in UNTAILED:
            return
        try:
            with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
                self.last_seq += 1
                self._entries.append(_entry(self.last_seq, record))
                seq, listeners = self.last_seq, tuple(self._listeners)
        except Exception:
            self.errors += 1
            return
        self._telling.active = True
        try:
            for listener in listeners:
                try:
                    listener(seq)
                except Exception:
                    self.errors += 1
        finally:
            self._telling.active = False

    def entries(self, after: int = 0) -> list[LogEntry]:
        """The kept records numbered above ``after``, oldest first."""
        with self.lock:  # type: ignore[union-attr]
            newer = []
            for entry in reversed(self._entries):
                if entry.seq <= after:
                    break
                newer.append(entry)
        newer.reverse()
        return newer

    def listen(self, listener: LogListener) -> Callable[[], None]:
        """Call ``listener(seq)`` after each record (on the logging thread; it must not
        block). Returns the function that stops it."""
        with self.lock:  # type: ignore[union-attr]
            self._listeners.append(listener)

        def stop() -> None:
            with self.lock:  # type: ignore[union-attr]
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop


def _entry(seq: int, record: logging.LogRecord) -> LogEntry:
    try:
        message = record.getMessage()
    except Exception as exc:  # a bad format string or argument must not lose the record
        message = f"{record.msg!r} (could not format: {exc})"
    fields = tuple(
        (key, str(value))
        for key, value in record.__dict__.items()
        if key not in _STANDARD_ATTRIBUTES
    )
    exception = ""
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        exception = f"{type(error).__name__}: {error}"
    return LogEntry(seq, record.created, record.levelname, record.levelno, record.name,
                    message, fields, exception)  # fmt: skip


_tail: LogTail | None = None
_tail_lock = threading.Lock()


def log_tail() -> LogTail:
    """The process's log tail, attached to the root logger on first use."""
    global _tail
    with _tail_lock:
        if _tail is None:
            _tail = LogTail()
        root = logging.getLogger()
        if _tail not in root.handlers:
            root.addHandler(_tail)
        return _tail


def configure_logging(log_file: Path, level: str, max_bytes: int, backups: int) -> None:
    """Send every log record (and warnings) to ``log_file`` and the tail; nothing to stderr."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(json_lines_formatter())
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    tail = log_tail()
    for existing in list(root.handlers):
        if existing is not tail:
            root.removeHandler(existing)
            existing.close()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    for noisy in ("numba", "asyncio", "sqlalchemy", "uvicorn"):  # uvicorn: start/stop chatter
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
