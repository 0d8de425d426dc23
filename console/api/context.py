"""What every route of the API reads: the Deck and the services beside it.

The application runs on the Deck's loop, so a route calls the Deck's command layer
directly (no ``Remote``); the SSH server lives on the consoles' loop and is only read
(its session count), as ``/health/detailed`` always did.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from core.health.endpoints import DeckEndpoints
from core.health.sources import Sources

if TYPE_CHECKING:
    from checks import ReadinessService
    from console.api.caller import Authenticator
    from console.ssh.server import SSHService
    from core.config import Settings
    from core.deck import Deck

STREAM_QUEUE = 1000


@dataclass(slots=True)
class ApiContext:
    deck: Deck
    readiness: ReadinessService | None = None
    ssh: SSHService | None = None
    #: How a request proves who it is (bearer tokens); None: every protected call is 401.
    authenticator: Authenticator | None = None
    #: The monitoring routes' reader (and its Prometheus registry).
    endpoints: DeckEndpoints = field(init=False)
    #: Answers sent, by route template (unknown paths as "other") and status: /metrics.
    answers: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    #: Events a stream client may fall behind by before its oldest are dropped.
    stream_queue: int = STREAM_QUEUE

    def __post_init__(self) -> None:
        self.endpoints = DeckEndpoints(self.sources)

    @property
    def settings(self) -> Settings:
        return self.deck.settings

    @property
    def sources(self) -> Sources:
        return Sources(self.deck, self.readiness, self.ssh)


async def context_of(request: Request) -> ApiContext:
    """The context an application was built with (a FastAPI dependency)."""
    context: ApiContext = request.app.state.context
    return context
