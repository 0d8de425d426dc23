"""Who a command-line command acts as.

The CLI runs on the host, as a user who can read the database anyway, so it
is the local operator: the named (``--as``) or logged-in user with the local
console's role (``QD_CONSOLE_ROLE``, admin by default), from source ``cli``.
The command layer still checks that role, so a host configured with a
narrower local role gets the same refusals here as in the console.
"""

from __future__ import annotations

import getpass

from core.access import Principal
from core.config import Settings

CLI_SOURCE = "cli"


def cli_actor(name: str | None, settings: Settings) -> Principal:
    return Principal(name or getpass.getuser(), settings.console_role, source=CLI_SOURCE)
