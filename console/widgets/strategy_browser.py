"""The strategy library as a tree by family, with a filter box above it."""

from __future__ import annotations

from collections.abc import Iterable

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Tree

from console.focus import focus_now
from core.research.strategies import Family, Strategy


def matches(strategy: Strategy, query: str) -> bool:
    """Every word of ``query`` appears in the strategy's id, name, family or description."""
    text = " ".join((strategy.id, strategy.name, strategy.family.value, strategy.description))
    text = text.lower()
    return all(word in text for word in query.lower().split())


class StrategyBrowser(Vertical):
    """Every strategy, grouped by family; typing in the filter keeps the matching ones.

    Keys: in the filter, enter or down moves to the tree; in the tree, the arrows
    move (each strategy passed is ``Highlighted``) and enter chooses (``Chosen``).
    """

    DEFAULT_CSS = """
    StrategyBrowser { border: round $primary; }
    StrategyBrowser > Input { margin-bottom: 1; }
    StrategyBrowser > Tree {
        height: 1fr; background: transparent; overflow-x: hidden; scrollbar-size-vertical: 1;
    }
    """

    class Highlighted(Message):
        def __init__(self, strategy: Strategy) -> None:
            super().__init__()
            self.strategy = strategy

    class Chosen(Message):
        def __init__(self, strategy: Strategy) -> None:
            super().__init__()
            self.strategy = strategy

    def __init__(self, strategies: Iterable[Strategy], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._strategies = sorted(strategies, key=lambda s: s.id)

    def compose(self) -> ComposeResult:
        self.border_title = "Strategies"
        yield Input(placeholder="/ filter", id="strategy-filter", compact=True)
        tree: Tree[Strategy] = Tree("library", id="strategy-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree

    def on_mount(self) -> None:
        self.refilter("")

    @property
    def tree(self) -> Tree[Strategy]:
        return self.query_one("#strategy-tree", Tree)

    @property
    def shown(self) -> list[str]:
        """Ids of the strategies the filter keeps, in tree order."""
        return [
            leaf.data.id
            for family in self.tree.root.children
            for leaf in family.children
            if leaf.data is not None
        ]

    def set_strategies(self, strategies: Iterable[Strategy]) -> None:
        """List ``strategies`` instead (the user strategies were reloaded): the filter
        stays, and the cursor stays on its strategy's id while the list has it."""
        node = self.tree.cursor_node
        current = node.data.id if node is not None and node.data is not None else None
        self._strategies = sorted(strategies, key=lambda s: s.id)
        self.refilter(self.query_one("#strategy-filter", Input).value)
        if current is not None:  # once the new nodes have their lines
            self.call_after_refresh(self.move_to, current)

    def refilter(self, query: str) -> None:
        tree = self.tree
        tree.clear()
        tree.cursor_line = -1  # the old line may now be another strategy
        kept = [s for s in self._strategies if matches(s, query)]
        for family in Family:
            members = [s for s in kept if s.family is family]
            if not members:
                continue
            node = tree.root.add(f"{family.value} ({len(members)})", expand=True)
            for strategy in members:
                node.add_leaf(strategy.id, data=strategy)
        self.border_subtitle = f"{len(kept)} of {len(self._strategies)}"

    @on(Input.Changed, "#strategy-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refilter(event.value)

    @on(Input.Submitted, "#strategy-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_tree()

    def on_key(self, event: events.Key) -> None:
        if event.key == "down" and self.query_one("#strategy-filter", Input).has_focus:
            event.stop()
            self.focus_tree()

    def focus_tree(self, prefer: str | None = None) -> None:
        """Focus the list. With no strategy under its cursor (a new filter clears it), the
        cursor goes to ``prefer`` (the one the form shows) if the filter keeps it, else
        to the first strategy."""
        tree = self.tree
        focus_now(tree)
        if tree.cursor_node is None or tree.cursor_node.data is None:
            if prefer in self.shown:
                self.move_to(prefer)
                return
            first = next((leaf for f in tree.root.children for leaf in f.children), None)
            if first is not None:
                tree.move_cursor(first)

    def move_to(self, strategy_id: str) -> None:
        """Put the tree's cursor on ``strategy_id``, if the filter shows it."""
        for family in self.tree.root.children:
            for leaf in family.children:
                if leaf.data is not None and leaf.data.id == strategy_id:
                    self.tree.move_cursor(leaf)
                    self.call_after_refresh(self._centre, leaf.line)
                    return

    def _centre(self, line: int) -> None:
        tree = self.tree
        tree.scroll_to(y=max(0, line - tree.scrollable_content_region.height // 2), animate=False)

    def focus_filter(self) -> None:
        focus_now(self.query_one("#strategy-filter", Input))

    @on(Tree.NodeHighlighted, "#strategy-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Strategy]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Highlighted(event.node.data))

    @on(Tree.NodeSelected, "#strategy-tree")
    def _selected(self, event: Tree.NodeSelected[Strategy]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Chosen(event.node.data))
