"""A real Quarterdeck serving its API on 127.0.0.1 for the probes of a target's engine, and
probe contexts aimed at it from elsewhere (their own settings say "live": only what the
target's API answers can decide)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from checks.probes import ProbeContext, Scope, Target
from core.access import Role
from core.config import Settings
from tests.console.api.conftest import Api, role_keys, serving


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    """A Quarterdeck serving its API, a user of each role holding a key."""
    async with serving(settings, role_keys(settings)) as served:
        yield served


def aimed_at(api: Api, role: Role = Role.VIEWER, scope: Scope = Scope.TARGET) -> ProbeContext:
    """A check run from elsewhere with ``role``'s key: its own settings and store are not
    the target's."""
    target = Target(base_url=api.url, api_key=api.keys[role])
    return ProbeContext(api.deck.settings, api.deck.store.engine, "live", target, scope=scope)
