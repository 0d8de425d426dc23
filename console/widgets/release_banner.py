"""Where a release stands, in one line across the top of the readiness screen."""

from __future__ import annotations

from textual.widgets import Static

from checks.release import ReleaseState
from console.formatting import utc_stamp

NAMED = 3  # blocking items named before "and N more"


def banner_text(state: ReleaseState) -> tuple[str, str]:
    """``(text, tone)``, tone being "authorized", "ready" or "blocked"."""
    signed = f"signed {len(state.signed)}/{len(state.required_roles)}"
    voided = state.voided_authorization
    note = f" · an authorization by {voided.who} was voided by a later change" if voided else ""
    if state.authorization is not None:
        a = state.authorization
        return (f"✔ AUTHORIZED {state.release} by {a.who}, {utc_stamp(a.ts)} · {signed}",
                "authorized")  # fmt: skip
    failures = state.blocking_failures
    if failures:
        names = ", ".join(f.item.id for f in failures[:NAMED])
        more = f" and {len(failures) - NAMED} more" if len(failures) > NAMED else ""
        return (f"✘ BLOCKED {state.release} by {len(failures)} item(s): {names}{more} · "
                f"{signed}{note}", "blocked")  # fmt: skip
    if state.missing_roles:
        return (f"◐ READY, awaiting sign-off: {', '.join(state.missing_roles)} · {signed}{note}",
                "ready")  # fmt: skip
    return f"◐ READY TO AUTHORIZE {state.release} · {signed}{note}", "ready"


class ReleaseBanner(Static):
    """AUTHORIZED, READY (awaiting sign-offs, or authorization) or BLOCKED by N items (the
    first few named), with the sign-off count; the word and symbol say it, colour repeats it.

    CSS classes ``-authorized``, ``-ready`` and ``-blocked`` follow the state.
    """

    DEFAULT_CSS = """
    ReleaseBanner { height: auto; max-height: 2; padding: 0 1; border-left: thick $panel;
                    text-style: bold; }
    ReleaseBanner.-authorized { border-left: thick $success; color: $success; }
    ReleaseBanner.-ready { border-left: thick $warning; color: $warning; }
    ReleaseBanner.-blocked { border-left: thick $error; color: $error; }
    """

    def show(self, state: ReleaseState | None) -> None:
        for tone in ("authorized", "ready", "blocked"):
            self.remove_class(f"-{tone}")
        if state is None:
            self.update("Reading the ledger…")
            return
        text, tone = banner_text(state)
        self.add_class(f"-{tone}")
        self.update(text)
