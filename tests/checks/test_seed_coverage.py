"""Every item of every seed checklist is covered by the built-in catalog, and nothing else is
cited. The unit of a seed item is explained in ``tests/checks/seeds.py``."""

from __future__ import annotations

from checks import builtin_checklists

from .coverage_table import README, readme_section, table
from .seeds import parse_seed_text, parse_seeds, seed_files


def _cited() -> dict[str, list[str]]:
    """Each cited source, with the ``checklist/item`` ids that cite it."""
    cited: dict[str, list[str]] = {}
    for checklist in builtin_checklists().values():
        for item in checklist.items:
            for source in item.sources:
                cited.setdefault(source, []).append(f"{checklist.id}/{item.id}")
    return cited


def test_seed_files_parse_into_items() -> None:
    files = seed_files()
    assert sorted(files) == ["000", "001", "002", "003", "004"]
    items = parse_seeds()
    for seed in files:
        assert sum(item.seed == seed for item in items) >= 20, seed


def test_every_seed_item_is_cited_by_the_catalog() -> None:
    cited = _cited()
    uncovered = [f"{item.source}  (seed line {item.line})" for item in parse_seeds()
                 if item.source not in cited]  # fmt: skip
    assert not uncovered, f"{len(uncovered)} seed items not covered:\n" + "\n".join(uncovered)


def test_every_cited_source_is_a_seed_item() -> None:
    known = {item.source for item in parse_seeds()}
    invented = [f"{source}  (cited by {', '.join(ids)})"
                for source, ids in sorted(_cited().items()) if source not in known]  # fmt: skip
    assert not invented, "cited sources that are no seed item:\n" + "\n".join(invented)


def test_the_readme_coverage_table_is_current() -> None:
    assert readme_section(README.read_text(encoding="utf-8")) == table(), (
        "the README's seed coverage table is stale: python -m tests.checks.coverage_table --write"
    )


def test_most_of_the_production_checklist_is_automated() -> None:
    production = builtin_checklists()["production"]
    automated = [item for item in production.items if item.probe]
    assert len(automated) / len(production.items) >= 0.6, f"{len(automated)} of 90"


def test_parser_unit_bold_label_with_sub_checkboxes_is_one_item() -> None:
    mojibake_check = "\u201a\u00fa\u00d6"  # a mis-decoded ✅
    text = f"""# Title

## Security
### ✅ Auth
- [ ] **Secret Management**
  - [ ] No default passwords
  - [ ] Rotation documented
- [x] **CORS**: origins restricted
  ```bash
  - [ ] not an item (code)
  ```
- [ ] Notify `stakeholders`
- {mojibake_check} **Health Endpoint**: `/health` works
- ⚠️  **Health Endpoint**: public on purpose

## Rollback
1. **Immediate Actions**
   - [ ] Stop new traffic
   - [ ] Preserve logs

### Immediate Rollback (< 5 min)
```bash
docker-compose down
```

### 2. Escalation Path
1. P0: page on-call

### Only prose
Nothing to do here.
"""
    labels = [item.label for item in parse_seed_text("009", text)]
    assert labels == [
        "Secret Management",
        "CORS",
        "Notify stakeholders",
        "Health Endpoint",
        "Stop new traffic",
        "Preserve logs",
        "Immediate Rollback (< 5 min)",
        "Escalation Path",
    ]
