"""The audit screen's verdict line: has the trail been verified, and did it hold?"""

from __future__ import annotations

from textual.widgets import Static

from console import formatting as fmt
from core.audit import Tampered, Verified


def verified_text(verified: Verified) -> str:
    """``VERIFIED`` with the count and the newest signed checkpoint, as the CLI counts them."""
    entries = f"{fmt.quantity(verified.entries)} entries"
    if verified.last_checkpoint_id is None or verified.last_checkpoint_ts is None:
        return f"✔ VERIFIED · {entries} · no signed checkpoint yet"
    return (f"✔ VERIFIED · {entries} · {verified.checkpoints} signed checkpoint(s), "
            f"last #{verified.last_checkpoint_id} signed at "
            f"{fmt.utc_timestamp(verified.last_checkpoint_ts)} covering "
            f"{fmt.quantity(verified.last_checkpoint_at or 0)}")  # fmt: skip


def broken_text(problem: Tampered) -> str:
    where = f" at entry {problem.seq}" if problem.seq is not None else ""
    return f"✖ BROKEN{where} · {problem}"


class VerificationBanner(Static):
    """One line (wrapping if it must) saying whether the trail verified, in words and
    colour: the class ``-verified`` (success), ``-broken`` (error) or ``-pending``
    (muted, before the first check and while one runs)."""

    DEFAULT_CSS = """
    VerificationBanner { height: auto; padding: 0 1; }
    VerificationBanner.-pending { color: $text-muted; background: $panel; }
    VerificationBanner.-verified { color: $success; background: $panel; text-style: bold; }
    VerificationBanner.-broken { color: $error; background: $panel; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.show_pending("Not verified yet: press v to check the hash chain and its signatures.")

    def show_pending(self, text: str) -> None:
        self._show("-pending", text)

    def show_verified(self, verified: Verified, new_since: int = 0) -> None:
        since = f" · {new_since} new since, press v again" if new_since else ""
        self._show("-verified", verified_text(verified) + since)

    def show_broken(self, problem: Tampered) -> None:
        self._show("-broken", broken_text(problem))

    def show_unchecked(self, why: str) -> None:
        """The check itself failed (e.g. an unreadable key file): not a verdict on the trail."""
        self._show("-broken", f"✖ NOT VERIFIED · could not check: {why}")

    def _show(self, state: str, text: str) -> None:
        self.set_classes(state)
        self.update(text)
