"""What the health endpoints and metrics read, as the Deck and its services hold it.

The readiness service lives in ``checks`` and the SSH server in ``console``;
both are above ``core``, so they are seen here only through these protocols.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from core.events import FeedStatus, JobState, Verdict

if TYPE_CHECKING:
    from core.deck import Deck


class _HasVerdict(Protocol):
    @property
    def verdict(self) -> Verdict: ...


class ProbeResults(Protocol):
    """The readiness service: the latest result of each probe item."""

    @property
    def results(self) -> Mapping[str, _HasVerdict]: ...


class SSHSessions(Protocol):
    """The SSH server: its open sessions and refused logins."""

    @property
    def sessions(self) -> Sized: ...

    @property
    def failed_logins(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Sources:
    deck: Deck
    readiness: ProbeResults | None = None
    ssh: SSHSessions | None = None

    def feeds(self) -> list[tuple[FeedStatus, int | None]]:
        """Each feed's status now, with its reconnect count where the feed keeps one."""
        feed = self.deck.feed
        reconnects = getattr(feed, "reconnects", None)
        return [(feed.status(), reconnects if isinstance(reconnects, int) else None)]

    def job_counts(self) -> dict[JobState, int]:
        counts = dict.fromkeys(JobState, 0)
        for update in self.deck.jobs.jobs.values():
            counts[update.state] += 1
        return counts

    def verdict_counts(self) -> dict[Verdict, int] | None:
        if self.readiness is None:
            return None
        counts = dict.fromkeys(Verdict, 0)
        for result in self.readiness.results.values():
            counts[result.verdict] += 1
        return counts
