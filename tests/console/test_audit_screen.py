"""Pilot tests of the audit screen: live entries, search, verification and details."""

from __future__ import annotations

import asyncio
import sqlite3

from textual.widgets import DataTable, Input

from console.widgets.audit_banner import VerificationBanner
from console.widgets.audit_details import AuditDetails
from core.access import Principal, Role
from core.audit import append_entry, sign_checkpoint
from core.config import Settings
from tests.console.audit_seed import ENTRIES, seed_trail
from tests.console.pilot import make_app, static_text, wait_until


def column(table: DataTable, key: str) -> list[str]:
    return [str(table.get_cell(row.key, key)) for row in table.ordered_rows]


def banner(app) -> str:
    return static_text(app.screen.query_one(VerificationBanner))


async def test_entries_appended_while_open_appear_newest_first(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await asyncio.to_thread(append_entry, deck.store, "alice", "test.first", "r1", {"n": 1})
        await pilot.press("7")
        assert app.screen.id == "audit"
        table = app.screen.query_one("#audit-table", DataTable)
        ours = ("alice", "bob", "carol")  # the readiness service may audit its own runs
        await wait_until(pilot, lambda: "alice" in column(table, "who"))
        await asyncio.to_thread(append_entry, deck.store, "bob", "check.attest", "r1 tls",
                                {"note": "renewed"})  # fmt: skip
        await deck.kill(Principal("carol", Role.OPERATOR), "drill")

        def rows() -> list[tuple[str, str, str]]:
            return [row for row in zip(column(table, "who"), column(table, "action"),
                                       column(table, "detail"), strict=True)
                    if row[0] in ours]  # fmt: skip

        await wait_until(pilot, lambda: len(rows()) == 3)
        assert rows() == [("carol", "risk.kill", "source=local why=drill"),
                          ("bob", "check.attest", "note=renewed"),
                          ("alice", "test.first", "n=1")]  # fmt: skip
        seqs = [int(seq) for seq in column(table, "seq")]
        assert seqs == sorted(seqs, reverse=True)
        await pilot.press("q")


async def test_search_filters_on_any_column_and_escape_clears_it(make_frozen_app) -> None:
    app = make_frozen_app()
    seed_trail(app.deck.store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(ENTRIES))
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#audit-search", Input)
        await pilot.press(*"DRILL")  # the detail column, in any case
        await wait_until(pilot, lambda: table.row_count == 2)
        assert column(table, "action") == ["risk.reset", "risk.kill"]
        app.screen.query_one("#audit-search", Input).value = "bob"  # the who column
        await wait_until(pilot, lambda: column(table, "who") == ["bob"])
        await pilot.press("escape")
        await wait_until(pilot, lambda: table.row_count == len(ENTRIES))
        assert app.focused is table


async def test_verify_says_verified_on_an_intact_trail_with_its_checkpoint(make_frozen_app) -> None:
    app = make_frozen_app()
    seed_trail(app.deck.store, app.deck.settings.audit_key_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        assert "Not verified yet" in banner(app)
        await pilot.press("v")
        await wait_until(pilot, lambda: "VERIFIED" in banner(app))
        text = banner(app)
        assert "6 entries" in text and "last #1 signed at 2026-11-23 11:06:00Z" in text
        assert app.screen.query_one(VerificationBanner).has_class("-verified")
        await asyncio.to_thread(sign_checkpoint, app.deck.store, app.deck.settings.audit_key_file)
        await pilot.press("v")
        await wait_until(pilot, lambda: "2 signed checkpoint(s), last #2" in banner(app))


async def test_verify_says_broken_at_the_tampered_entry_and_selects_it(make_frozen_app) -> None:
    app = make_frozen_app()
    seed_trail(app.deck.store)
    with sqlite3.connect(app.deck.store.engine.url.database) as connection:
        connection.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(ENTRIES))
        await pilot.press("v")
        await wait_until(pilot, lambda: "BROKEN" in banner(app))
        assert "BROKEN at entry 3" in banner(app)
        assert "check.waive by mallory" in banner(app)
        assert app.screen.query_one(VerificationBanner).has_class("-broken")
        assert app.screen.table.selected is not None and app.screen.table.selected.seq == 3


async def test_details_show_every_field_with_both_hashes(make_frozen_app) -> None:
    app = make_frozen_app()
    seed_trail(app.deck.store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(ENTRIES))
        details = app.screen.query_one(AuditDetails)
        assert not details.display
        await pilot.press("down", "d")  # entry 5, the reset
        entry = app.screen.table.selected
        assert entry is not None and entry.seq == 5
        text = static_text(details)
        assert details.display
        assert "risk.reset" in text and '"why": "drill over"' in text
        assert entry.hash in text and entry.prev_hash in text
        await pilot.press("up")
        await wait_until(pilot, lambda: "export.deleted" in static_text(details))
        await pilot.press("d")
        assert not details.display


async def test_reread_shows_rows_changed_in_the_store(make_frozen_app) -> None:
    app = make_frozen_app()
    seed_trail(app.deck.store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(ENTRIES))
        with sqlite3.connect(app.deck.store.engine.url.database) as connection:
            connection.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
        assert "mallory" not in column(table, "who")  # the table never polls the store
        await pilot.press("r")
        await wait_until(pilot, lambda: "mallory" in column(table, "who"))
        assert table.row_count == len(ENTRIES)


async def test_an_unreadable_key_is_not_verified_and_not_called_tampering(
    make_frozen_app,
) -> None:
    app = make_frozen_app()
    key = app.deck.settings.audit_key_file
    seed_trail(app.deck.store, key)
    key.write_text("not a key")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7", "v")
        await wait_until(pilot, lambda: "NOT VERIFIED" in banner(app))
        assert "could not check" in banner(app) and "BROKEN" not in banner(app)


async def test_the_palette_offers_the_broken_entry_and_clearing_the_search(
    make_frozen_app,
) -> None:
    app = make_frozen_app()
    seed_trail(app.deck.store)
    with sqlite3.connect(app.deck.store.engine.url.database) as connection:
        connection.execute("DELETE FROM audit WHERE seq = 4")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(ENTRIES) - 1)
        assert list(app.screen.palette_commands()) == []
        await pilot.press("v")
        await wait_until(pilot, lambda: "BROKEN at entry 5" in banner(app))
        await pilot.press("up")
        (go,) = app.screen.palette_commands()
        assert go.title == "Go to broken audit entry 5"
        go.run()
        assert app.screen.table.selected is not None and app.screen.table.selected.seq == 5
        app.screen.query_one("#audit-search", Input).value = "alice"
        await wait_until(pilot, lambda: app.screen.table.search == "alice")
        titles = [command.title for command in app.screen.palette_commands()]
        assert titles[-1] == "Clear the audit search “alice”"
