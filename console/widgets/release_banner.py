"""Where a release stands, in one line across the top of the readiness screen."""

from __future__ import annotations

from collections import Counter

from textual.widgets import Static

from checks.release import ItemState, ReleaseState
from console.formatting import utc_stamp

NAMED = 3  # blocking items named before "and N more"
REASON_CHARS = 72  # a blocker's reason in a refusal, cut to about a line


def _blocker(state: ItemState) -> str:
    if state.result is not None:
        reason = state.result.reason
    elif state.item.probe is None:
        reason = f"needs an attestation for {state.item.owner.value}"
    else:
        reason = "not run yet"
    reason = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
    return f"• {state.item.id} ({state.status}): {reason}"


def refusal_lines(state: ReleaseState, named: int = 5, *, everything: bool = True) -> list[str]:
    """Why ``state`` cannot be authorized, read at a glance: the blocking items counted by
    state, the first ``named`` of them with their reason, "and N more", the roles whose
    sign-off is missing; then, if ``everything``, the rest of the blockers (on demand:
    below the fold, for whoever scrolls)."""
    failures = state.blocking_failures
    lines = [f"✘ {state.release} cannot be authorized", f"Target: {state.target}"]
    if failures:
        counts = Counter(f.status for f in failures).most_common()
        lines.append(f"{len(failures)} blocking item(s) unsatisfied: "
                     + ", ".join(f"{n} {status}" for status, n in counts))  # fmt: skip
        lines += [_blocker(f) for f in failures[:named]]
        if len(failures) > named:
            below = ", listed below" if everything else ""
            lines.append(f"  and {len(failures) - named} more{below}")
    missing = state.missing_roles
    if missing:
        lines.append(f"Sign-offs missing ({len(missing)}): {', '.join(missing)}")
    if everything and len(failures) > named:
        lines += ["", "The other blocking items:"] + [_blocker(f) for f in failures[named:]]
    return lines


def banner_text(state: ReleaseState) -> tuple[str, str]:
    """``(text, tone)``, tone being "authorized", "ready" or "blocked". The release is
    named with the target its verdicts were given on."""
    signed = f"signed {len(state.signed)}/{len(state.required_roles)}"
    on = f"on {', '.join(state.targets)}" if state.targets else "(no target recorded)"
    voided = state.voided_authorization
    note = f" · an authorization by {voided.who} was voided by a later change" if voided else ""
    if state.authorization is not None:
        a = state.authorization
        return (f"✔ AUTHORIZED {state.release} {on} by {a.who}, {utc_stamp(a.ts)} · {signed}",
                "authorized")  # fmt: skip
    failures = state.blocking_failures
    if failures:
        names = ", ".join(f.item.id for f in failures[:NAMED])
        more = f" and {len(failures) - NAMED} more" if len(failures) > NAMED else ""
        return (f"✘ BLOCKED {state.release} {on} · {signed}{note} · {len(failures)} blocking "
                f"item(s): {names}{more}", "blocked")  # fmt: skip
    if state.missing_roles:
        return (f"◐ READY {state.release} {on}, awaiting sign-off: "
                f"{', '.join(state.missing_roles)} · {signed}{note}",
                "ready")  # fmt: skip
    return f"◐ READY TO AUTHORIZE {state.release} {on} · {signed}{note}", "ready"


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
