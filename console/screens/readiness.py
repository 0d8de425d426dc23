"""The readiness screen: a release's checklist, run live, attested, waived, signed and
authorized from the keyboard, with the evidence behind every item.

Everything here is what ``quarterdeck check`` does, through the same ledger calls
(``checks.ledger``) with the same rules: the screen and the CLI agree on every
state. Ledger calls block, so they run in threads; probes run in the Deck's
readiness service, whose ``CheckUpdate`` events redraw the tree as they come.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select

from checks import Checklist, ChecklistItem, builtin_checklists
from checks.ledger import LedgerError, attest, authorize, history, sign_off, state, waive
from checks.release import Release, ReleaseState, default_release
from checks.reports import as_json, as_junit, as_markdown
from console.focus import focus_now
from console.modes import MODES
from console.screens.base import DeckScreen, Need, PaletteCommand
from console.screens.confirm import ConfirmScreen
from console.screens.form import FormField, FormScreen
from console.widgets.checklist_tree import ChecklistTree
from console.widgets.evidence_pane import EvidencePane
from console.widgets.release_banner import ReleaseBanner, banner_text, refusal_lines
from core import bounds
from core.access import Capability, PermissionDenied
from core.events import Verdict
from core.store import CheckResultRow, Store

log = logging.getLogger(__name__)

#: The release report to sign (``checks.release_report``) first, then the status reports.
RELEASE_REPORT_FORMATS = {"release pdf": "pdf", "release markdown": "markdown"}
REPORT_FORMATS = (*RELEASE_REPORT_FORMATS, "markdown", "json", "junit")
REPORT_SUFFIX = {"markdown": "md", "json": "json", "junit": "xml"}
#: header input id -> the field it edits
HEADER_FIELDS = {"readiness-target": "target", "readiness-release": "release",
                 "readiness-environment": "environment"}  # fmt: skip


def render_report(current: ReleaseState, fmt: str) -> str:
    """The report ``quarterdeck check status`` writes (``--json`` prints, ``--markdown``)."""
    if fmt == "json":
        return json.dumps(as_json(current), indent=2) + "\n"
    if fmt == "junit":
        return as_junit(current)
    return as_markdown(current)


def export_report(
    store: Store, checklist: Checklist, release: Release, roles: tuple[str, ...], fmt: str,
    folder: Path, now: float,
) -> Path:  # fmt: skip
    """Write the release's report to ``folder`` and return its path. Blocking."""
    current = state(store, checklist, release, required_roles=roles, now=now)
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    version = "".join(c if c.isalnum() or c in "._-" else "_" for c in release.version)
    name = f"readiness-{checklist.id}-{version}-{release.environment}-{stamp}"
    path = folder / f"{name}.{REPORT_SUFFIX[fmt]}"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(current, fmt), encoding="utf-8")
    return path


class ReadinessScreen(DeckScreen):
    """A release (version) of a checklist: its sections and items with live badges, the
    evidence of the selected item, and where the release stands (the banner).

    BINDINGS:
        a / s / i: run every probe, the selected section's, the selected item's.
        t: attest the selected manual item. W: waive the selected item.
        S: sign off for a role. A: authorize deployment. x: export the report.
        c: the next checklist. v: edit the release version. f: failing items only.

    The header line (the cockpit) holds the target (the deployment the probes examine,
    the readiness service's, shared by every session), the release and the environment:
    each is edited in place (``v`` or tab into it; enter or leaving the field commits
    it) or from the palette ("Set readiness target…"), and each committed change is
    audited with who changed it from what to what. The next run examines that target
    and records its verdicts for that release and environment.
    """

    TITLE_TEXT = MODES["readiness"].title
    AUTO_FOCUS = "#checklist-tree"
    ACTIONS_NEED = {
        "run_all": Need(Capability.RUN_CHECKS, "check.run"),
        "run_section": Need(Capability.RUN_CHECKS, "check.run"),
        "run_item": Need(Capability.RUN_CHECKS, "check.run"),
        "attest": Need(Capability.ATTEST, "check.attest"),
        "waive": Need(Capability.WAIVE, "check.waive"),
        "sign_off": Need(Capability.SIGN_OFF, "check.signoff"),
        "authorize": Need(Capability.AUTHORIZE, "deployment.authorize"),
        "export": Need(Capability.RUN_CHECKS, "check.export"),
        "set_target": Need(Capability.RUN_CHECKS, "check.target"),
    }
    BINDINGS = [
        Binding("a", "run_all", "Run all", id="readiness.run_all"),
        Binding("s", "run_section", "Run section", id="readiness.run_section"),
        Binding("i", "run_item", "Run item", id="readiness.run_item"),
        Binding("t", "attest", "Attest", id="readiness.attest"),
        Binding("W", "waive", "Waive", id="readiness.waive"),
        Binding("S", "sign_off", "Sign off", id="readiness.sign_off"),
        Binding("A", "authorize", "Authorize", id="readiness.authorize"),
        Binding("x", "export", "Export", id="readiness.export"),
        Binding("c", "next_checklist", "Checklist", id="readiness.checklist", show=False),
        Binding("v", "edit_release", "Release", id="readiness.release", show=False),
        Binding("f", "failing_only", "Failing only", id="readiness.failing_only"),
    ]
    DEFAULT_CSS = """
    ReadinessScreen #readiness-controls { height: 1; margin: 0 1; }
    ReadinessScreen #readiness-controls Label { width: auto; margin-right: 1; color: $text-muted; }
    ReadinessScreen #readiness-target { width: 1fr; min-width: 16; margin-right: 1; }
    ReadinessScreen #readiness-release { width: 11; margin-right: 1; }
    ReadinessScreen #readiness-environment { width: 10; margin-right: 1; }
    ReadinessScreen #readiness-checklist { width: 14; }
    ReadinessScreen ChecklistTree { width: 3fr; }
    ReadinessScreen EvidencePane { width: 2fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checklists: dict[str, Checklist] = {}
        self._loaded = asyncio.Event()  # set once the checklists are read (or failed to be)
        self.checklist: Checklist | None = None
        # QD_RELEASE, else the build running: what the CLI reads when given no --release
        self.version = default_release(self.console.settings)
        self.environment = self.console.settings.environment
        # what was last committed (audited) of the release and environment fields
        self._committed = {"release": self.version, "environment": self.environment}
        self._target_pending: str | None = None  # a target being set
        self._refusal: list[str] | None = None  # an authorization refusal being shown
        self.exported: Path | None = None  # the last report written
        self._history: tuple[str | None, list[CheckResultRow]] = (None, [])

    # --- layout and loading ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        settings = self.deck.settings
        yield from self.compose_header()
        yield ReleaseBanner("Reading the ledger…", id="readiness-banner", markup=False)
        with Horizontal(id="readiness-controls"):
            yield Label("Target")
            yield Input(self.target, placeholder="not set: http(s)://…", id="readiness-target",
                        compact=True)  # fmt: skip
            yield Label("Release")
            yield Input(self.version, placeholder="version", id="readiness-release", compact=True)
            yield Label("Env")
            yield Input(self.environment, placeholder="environment", id="readiness-environment",
                        compact=True)  # fmt: skip
            yield Select([("production", "production")], value="production", allow_blank=False,
                         id="readiness-checklist", compact=True)  # fmt: skip
        with Horizontal(id="readiness-body"):
            yield ChecklistTree(self.deck.bus, settings.ui_refresh_hz, id="readiness-tree")
            yield EvidencePane(id="readiness-evidence")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self._load_checklists()

    @work(group="readiness-load", exclusive=True)
    async def _load_checklists(self) -> None:
        try:
            self.checklists = await asyncio.to_thread(builtin_checklists)
        except Exception as exc:
            log.exception("readiness checklists not loaded")
            self.notify(f"Checklists not loaded: {exc}", severity="error", timeout=30)
            return
        finally:
            self._loaded.set()
        select = self.query_one("#readiness-checklist", Select)
        select.set_options([(cid, cid) for cid in self.checklists])
        first = "production" if "production" in self.checklists else next(iter(self.checklists))
        select.value = first
        self.checklist = self.checklists[first]
        self.reload()

    @property
    def tree(self) -> ChecklistTree:
        return self.query_one(ChecklistTree)

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.deck.settings.signoff_roles)

    @property
    def target(self) -> str:
        """The deployment the next run examines: the readiness service's (shared)."""
        service = self.console.readiness
        return service.target if service is not None else self.console.settings.check_target

    @property
    def release(self) -> Release | None:
        if self.checklist is None:
            return None
        return Release(self.checklist.id, self.version, self.environment)

    def reload(self) -> None:
        """Read the release's state from the ledger again (in a thread), then redraw."""
        self._read_state()

    @work(group="readiness-read", exclusive=True)
    async def _read_state(self) -> None:
        checklist, release = self.checklist, self.release
        if checklist is None or release is None:
            return
        try:
            current = await asyncio.to_thread(state, self.deck.store, checklist, release,
                                              required_roles=self.roles,
                                              now=self.console.clock())  # fmt: skip
        except Exception as exc:
            if not getattr(self.deck, "running", True) and self.console._start_deck:
                # the Deck is still starting (its schema not made yet): read again soon
                self.query_one(ReleaseBanner).update("Waiting for the store to start…")
                self.set_timer(1.0, self.reload)
                return
            log.exception("readiness state not read")
            self.notify(f"The readiness ledger cannot be read: {exc}", severity="error")
            return
        service = self.console.readiness
        self.tree.show(checklist, current, service.held if service is not None else None)
        self.query_one(ReleaseBanner).show(current)
        self._read_history()

    @work(group="readiness-history", exclusive=True)
    async def _read_history(self) -> None:
        item, release = self.tree.selected_item, self.release
        rows: list[CheckResultRow] = []
        if item is not None and release is not None:
            rows = await asyncio.to_thread(history, self.deck.store, release, item.id)
        self._history = (item.id if item is not None else None, rows)
        self._draw_evidence()

    def _draw_evidence(self) -> None:
        pane, item = self.query_one(EvidencePane), self.tree.selected_item
        if self._refusal is not None:
            pane.show_refusal("Authorization refused", self._refusal)
            return
        if item is None:
            pane.show(None, None, ())
            return
        item_id, rows = self._history
        pane.show(self.tree.item_state(item.id), self.tree.live.get(item.id),
                  rows if item_id == item.id else ())  # fmt: skip

    def on_checklist_tree_selected(self, event: ChecklistTree.Selected) -> None:
        self._refusal = None  # moving on from a refusal shows the evidence again
        self._read_history()

    def on_resize(self) -> None:
        """Under 100 columns the evidence gets half the width (words need room to wrap)."""
        narrow = self.size.width < 100
        self.tree.styles.width = "1fr" if narrow else "3fr"
        self.query_one(EvidencePane).styles.width = "1fr" if narrow else "2fr"

    def on_checklist_tree_updated(self, event: ChecklistTree.Updated) -> None:
        item = self.tree.selected_item
        if item is not None and item.id in event.item_ids:
            self._draw_evidence()
        if event.finished:
            # The service records a run just after its last probe reports: read it then.
            self.set_timer(0.5, self.reload)

    def on_select_changed(self, event: Select.Changed) -> None:
        chosen = self.checklists.get(str(event.value))
        if chosen is not None and chosen is not self.checklist:
            self.checklist = chosen
            self.reload()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "readiness-release":
            self.version = event.value.strip() or default_release(self.deck.settings)
            self.reload()
        elif event.input.id == "readiness-environment":
            self.environment = event.value.strip() or self.deck.settings.environment
            self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in HEADER_FIELDS:
            self._commit(HEADER_FIELDS[event.input.id], event.value)
            focus_now(self.query_one("#checklist-tree"))

    def on_input_blurred(self, event: Input.Blurred) -> None:
        if event.input.id in HEADER_FIELDS:
            self._commit(HEADER_FIELDS[event.input.id], event.value)

    def _commit(self, field: str, value: str) -> None:
        """A header field's edit is done: set it, and audit it if it changed."""
        value = value.strip()
        if field == "target":
            value = value.rstrip("/")
            if value != self.target and value != self._target_pending:
                self._target_pending = value
                self._set_target(value)
            return
        if field == "release":
            self.version = value or default_release(self.deck.settings)
            value = self.version
        else:
            self.environment = value or self.deck.settings.environment
            value = self.environment
        previous = self._committed[field]
        if value == previous:
            return
        self._committed[field] = value
        self._show_field(field, value)
        self.reload()
        subject = self.checklist.id if self.checklist is not None else "readiness"
        self._audit(f"check.{field}", subject, {"from": previous, "to": value})

    def _show_field(self, field: str, value: str) -> None:
        box = self.query_one(f"#readiness-{field}", Input)
        if box.value.strip() != value:
            with box.prevent(Input.Changed):
                box.value = value
        if not box.has_focus:
            box.cursor_position = 0  # a long URL shows from its start

    @work(group="readiness-audit")
    async def _audit(self, action: str, subject: str, detail: dict[str, Any]) -> None:
        from core.guard import record

        try:
            await asyncio.to_thread(record, self.deck.store, self.user, action, subject, detail)
        except Exception:
            log.exception("%s by %s not audited", action, self.user.name)
            self.notify(f"The change was not audited: {action}", severity="error")

    @work(group="readiness-target", exclusive=True)
    async def _set_target(self, value: str) -> None:
        service = self.console.readiness
        if service is None:
            self.notify("No readiness service in this console.", severity="error")
            return
        try:
            previous = await service.set_target(value, actor=self.user)
            self.reload()
        except PermissionDenied as exc:
            self.notify(f"Setting the target refused: {exc}.", severity="error", timeout=15)
        except ValueError as exc:
            self.notify(str(exc), severity="error", timeout=15)
        else:
            shown = service.target or "none"
            self.notify(f"Readiness target: {shown} (was {previous or 'none'}); "
                        "the next run examines it.")  # fmt: skip
        finally:
            self._target_pending = None
        self._show_field("target", self.target)

    def action_set_field(self, field: str) -> None:
        """Edit the target, release or environment in a dialog (the palette's way)."""
        if field == "target" and self.denial_for("set_target"):
            self.refuse("set_target", "Set readiness target", "palette")
            return
        current = {"target": self.target, "release": self.version,
                   "environment": self.environment}[field]  # fmt: skip
        help_text = {
            "target": "The deployment (base URL) the next run examines, for every session.",
            "release": "The version whose verdicts this screen shows and records.",
            "environment": "The environment whose verdicts this screen shows and records.",
        }[field]
        form = FormScreen(f"Set readiness {field}",
                          (FormField("value", field.capitalize(), default=current,
                                     required=field != "target"),),
                          f"{help_text}\nNow: {current or 'not set'}. The change is audited.",
                          "Set")  # fmt: skip

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._show_field(field, values["value"])
                self._commit(field, values["value"])

        self.app.push_screen(form, done)

    def action_failing_only(self) -> None:
        shown = self.tree.toggle_failing_only()
        self.notify("Failing items only." if shown else "Every item.", timeout=3)

    def action_next_checklist(self) -> None:
        ids = list(self.checklists)
        if self.checklist is not None and len(ids) > 1:
            following = ids[(ids.index(self.checklist.id) + 1) % len(ids)]
            self.query_one("#readiness-checklist", Select).value = following

    def action_edit_release(self) -> None:
        focus_now(self.query_one("#readiness-release", Input))

    # --- running probes -------------------------------------------------------------------

    def action_run_all(self) -> None:
        self._run(None, "every probe")

    def action_run_section(self, section: str | None = None) -> None:
        section = section or self.tree.selected_section
        if section is None or self.checklist is None:
            self.notify("No section selected.", severity="warning")
            return
        ids = {i.id for i in self.checklist.probe_items if i.section == section}
        if not ids:
            self.notify(f"{section} has no automated items: attest them (t).", severity="warning")
            return
        self._run(ids, f"section {section}")

    def action_run_item(self, item_id: str | None = None) -> None:
        item = self._item(item_id)
        if item is None:
            return
        if item.probe is None:
            self.notify(f"{item.id} is manual: attest it (t).", severity="warning")
            return
        self._run({item.id}, item.id)

    def _run(self, only: set[str] | None, what: str) -> None:
        if self.console.readiness is None:
            self.notify("No readiness service in this console.", severity="error")
            return
        self._run_probes(only, what)

    @work(group="readiness-run")
    async def _run_probes(self, only: set[str] | None, what: str) -> None:
        # `a` pressed as the screen opens runs once the checklists are read, not never.
        await self._loaded.wait()
        service, checklist, version = self.console.readiness, self.checklist, self.version
        if service is None or checklist is None:
            return  # the load failed, and said so
        on = service.target or "no target set"
        self.notify(f"Running {what} of {checklist.id} {version} on {on}…")
        try:
            results = await service.rerun(only, checklist=checklist, version=version,
                                          environment=self.environment,
                                          actor=self.user)  # fmt: skip
        except PermissionDenied as exc:
            self.notify(f"The run of {what} refused: {exc}.", severity="error", timeout=15)
            return
        except Exception as exc:
            log.exception("readiness run failed")
            self.notify(f"The run of {what} failed: {exc}", severity="error")
            return
        bad = [k for k, r in results.items() if r.verdict not in (Verdict.PASS, Verdict.WARN)]
        summary = f"{len(results) - len(bad)}/{len(results)} pass or warn"
        self.notify(f"Ran {what}: {summary}.", severity="warning" if bad else "information")
        self.reload()

    # --- the ledger: attest, waive, sign off, authorize -------------------------------------

    def _item(self, item_id: str | None = None) -> ChecklistItem | None:
        if item_id is not None and self.checklist is not None:
            return self.checklist.item(item_id)
        item = self.tree.selected_item
        if item is None:
            self.notify("No item selected.", severity="warning")
        return item

    def _record(self, done: str, call: Callable[..., Any], *arguments: Any) -> None:
        self._ledger_call(done, call, arguments)

    @work(group="readiness-ledger")
    async def _ledger_call(
        self, done: str, call: Callable[..., Any], arguments: tuple[Any, ...]
    ) -> None:
        try:
            await asyncio.to_thread(call, self.deck.store, *arguments)
        except (LedgerError, PermissionDenied) as exc:
            self.notify(str(exc), severity="error", timeout=15)
        except Exception as exc:
            log.exception("readiness ledger call failed")
            self.notify(f"Not recorded: {exc}", severity="error", timeout=15)
        else:
            self.notify(done)
        self.reload()

    def action_attest(self, item_id: str | None = None) -> None:
        item, checklist, release = self._item(item_id), self.checklist, self.release
        if item is None or checklist is None or release is None:
            return
        if item.probe is not None:
            self.notify(f"{item.id} is decided by the probe {item.probe}: run it (i).",
                        severity="warning")  # fmt: skip
            return
        fields = (
            FormField("verdict", "Verdict", ("pass", "warn", "fail")),
            FormField("note", "Note: what you checked"),
            FormField("evidence", "Evidence: a link, a ticket, a file", required=False),
        )

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._record(f"{item.id}: {values['verdict']}, attested by {self.user.name}",
                             attest, checklist, release, item.id, Verdict(values["verdict"]),
                             self.user, values["note"], values["evidence"],
                             self.target)  # fmt: skip

        detail = (f"{item.title}\nNeeds: {item.evidence}\nRelease: {release}, target "
                  f"{self.target or 'not set'}")  # fmt: skip
        self.app.push_screen(FormScreen(f"Attest {item.id}", fields, detail, "Attest"), done)

    def action_waive(self, item_id: str | None = None) -> None:
        item, checklist, release = self._item(item_id), self.checklist, self.release
        if item is None or checklist is None or release is None:
            return
        fields = (
            FormField("justification", "Justification"),
            FormField("role", "Your role (the approver's)", self.roles),
            FormField("days", "Valid for (days)", default="7", bound=bounds.DAYS),
        )

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            days = bounds.DAYS.check(values["days"])  # the form refused anything else
            self._record(f"{item.id}: waived by {self.user.name} ({values['role']}) for "
                         f"{days:g} day(s)", waive, checklist, release, item.id,
                         values["justification"], self.user, values["role"],
                         time.time() + days * 86_400)  # fmt: skip

        detail = f"{item.title}\nRelease: {release}. The waiver is audited with your name."
        self.app.push_screen(FormScreen(f"Waive {item.id}", fields, detail, "Waive"), done)

    def action_sign_off(self, role: str | None = None) -> None:
        checklist, release, current = self.checklist, self.release, self.tree.state
        if checklist is None or release is None:
            return
        missing = current.missing_roles if current is not None else list(self.roles)
        first = role or (missing[0] if missing else self.roles[0])
        fields = (FormField("role", "Sign for the role", self.roles, default=first),
                  FormField("note", "Note", required=False))  # fmt: skip

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._record(f"Signed for {values['role']} by {self.user.name}", sign_off,
                             checklist, release, values["role"], self.user, values["note"],
                             self.roles)  # fmt: skip

        stands = banner_text(current)[0] if current is not None else ""
        detail = (f"{stands}\nThe sign-off holds while the blocking items stay as they are now; "
                  "any later change to one voids it.")  # fmt: skip
        self.app.push_screen(FormScreen(f"Sign off {release}", fields, detail, "Sign off"), done)

    def action_authorize(self) -> None:
        checklist, release, current = self.checklist, self.release, self.tree.state
        if checklist is None or release is None:
            return
        if current is not None and not current.authorizable:
            shown = "\n".join(refusal_lines(current, named=3, everything=False)[2:])
            detail = f"Not ready:\n{shown}\nThe ledger will refuse, and audit the refusal."
        else:
            detail = "Every blocking item is satisfied and every role has signed."

        def done(yes: bool | None) -> None:
            if yes:
                self._authorize(checklist, release)

        self.app.push_screen(ConfirmScreen(f"Authorize deployment of {release}?", detail,
                                           yes="Authorize"), done)  # fmt: skip

    @work(group="readiness-ledger")
    async def _authorize(self, checklist: Checklist, release: Release) -> None:
        """Authorize; a refusal is summarised in the evidence pane (counts by state, the
        first blockers, how many more), with a one-line notification pointing there."""
        store = self.deck.store
        try:
            await asyncio.to_thread(authorize, store, checklist, release, self.user, self.roles)
        except LedgerError as exc:
            try:
                current = await asyncio.to_thread(state, store, checklist, release,
                                                  required_roles=self.roles,
                                                  now=self.console.clock())  # fmt: skip
            except Exception:
                log.exception("readiness state not read")
                self.notify(str(exc), severity="error", timeout=15)
            else:
                self._refusal = refusal_lines(current)
                self._draw_evidence()
                self.notify(f"Not authorized: {len(current.blocking_failures)} blocking, "
                            f"{len(current.missing_roles)} sign-off(s) missing (see Evidence).",
                            severity="error", timeout=8)  # fmt: skip
        except PermissionDenied as exc:
            self.notify(str(exc), severity="error", timeout=15)
        except Exception as exc:
            log.exception("readiness authorization failed")
            self.notify(f"Not recorded: {exc}", severity="error", timeout=15)
        else:
            self.notify(f"{release}: deployment authorized by {self.user.name}")
        self.reload()

    # --- reports ------------------------------------------------------------------------

    def action_export(self, fmt: str | None = None) -> None:
        if fmt is not None:
            self._export(fmt)
            return

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._export(values["format"])

        field = FormField("format", "Format", REPORT_FORMATS)
        folder = self.deck.settings.exports_dir
        self.app.push_screen(FormScreen("Export the readiness report", (field,),
                                        f"Written to {folder}", "Export"), done)  # fmt: skip

    @work(group="readiness-export")
    async def _export(self, fmt: str) -> None:
        checklist, release = self.checklist, self.release
        if checklist is None or release is None:
            return
        settings = self.deck.settings
        try:
            if fmt in RELEASE_REPORT_FORMATS:
                from checks.release_report import export

                path = await asyncio.to_thread(
                    export, self.deck.store, checklist, release,
                    fmt=RELEASE_REPORT_FORMATS[fmt], folder=settings.exports_dir,
                    configured_target=self.target,
                    audit_key_file=settings.audit_key_file, required_roles=self.roles,
                    now=self.console.clock(), actor=self.user,
                )  # fmt: skip
            else:
                path = await asyncio.to_thread(export_report, self.deck.store, checklist,
                                               release, self.roles, fmt, settings.exports_dir,
                                               self.console.clock())  # fmt: skip
        except Exception as exc:
            log.exception("readiness report not written")
            self.notify(f"Report not written: {exc}", severity="error")
            return
        self.exported = path
        self.notify(f"Report written: {path}", timeout=15)

    # --- the palette --------------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("Set readiness target…", f"now {self.target or 'not set'}",
                             lambda: self.action_set_field("target"), "set_target")  # fmt: skip
        yield PaletteCommand("Set readiness release…", f"now {self.version}",
                             lambda: self.action_set_field("release"))  # fmt: skip
        yield PaletteCommand("Set readiness environment…", f"now {self.environment}",
                             lambda: self.action_set_field("environment"))  # fmt: skip
        yield PaletteCommand("Show failing items only" if not self.tree.failing_only
                             else "Show every item", "the checklist tree",
                             self.action_failing_only)  # fmt: skip
        checklist, release = self.checklist, self.release
        if checklist is None or release is None:
            return
        sections = dict.fromkeys(i.section for i in checklist.probe_items)
        for section in sections:
            yield PaletteCommand(f"Run section {section}", f"the {checklist.id} probes in it",
                                 lambda s=section: self.action_run_section(s),
                                 "run_section")  # fmt: skip
        item = self.tree.selected_item
        if item is not None and item.probe is not None:
            yield PaletteCommand(f"Run item {item.id}", item.title,
                                 lambda: self.action_run_item(item.id),
                                 "run_item")  # fmt: skip
        if item is not None and item.probe is None:
            yield PaletteCommand(f"Attest {item.id}", item.title,
                                 lambda: self.action_attest(item.id),
                                 "attest")  # fmt: skip
        if item is not None:
            yield PaletteCommand(f"Waive {item.id}", f"for {release}",
                                 lambda: self.action_waive(item.id),
                                 "waive")  # fmt: skip
        current = self.tree.state
        for role in current.missing_roles if current is not None else ():
            yield PaletteCommand(f"Sign off as {role}", f"{release}",
                                 lambda r=role: self.action_sign_off(r),
                                 "sign_off")  # fmt: skip
        yield PaletteCommand(f"Authorize {release}", "deployment, once ready and signed",
                             self.action_authorize, "authorize")  # fmt: skip
        for fmt in REPORT_FORMATS:
            yield PaletteCommand(f"Export readiness report as {fmt}",
                                 f"to {self.deck.settings.exports_dir}",
                                 lambda f=fmt: self.action_export(f),
                                 "export")  # fmt: skip
        for other in self.checklists:
            if other != checklist.id:
                yield PaletteCommand(f"Readiness checklist: {other}", "show it",
                                     lambda o=other: self._choose(o))  # fmt: skip

    def _choose(self, checklist_id: str) -> None:
        self.query_one("#readiness-checklist", Select).value = checklist_id
