"""Broken checklist files fail with a ChecklistError naming the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks import ChecklistError, load_checklist
from checks.catalog.source_map import scan

VALID = """\
# A two-item checklist used as the base for broken variants.
[checklist]
id = "mini"
title = "Mini"
description = "Two items."

[[items]]
id = "host.disk_free"
section = "Infrastructure"
title = "Disk"
why = "Full disks stop writes."
severity = "blocking"
kind = "probe"
probe = "host.disk"
owner = "Infrastructure"
evidence = "Free bytes."
sources = ["001: Resource Allocation"]

[items.params]
min_free_percent = 10

[[items]]
id = "ops.runbook"
section = "Operations"
title = "Runbook"
why = "On-call needs steps."
severity = "advisory"
kind = "manual"
owner = "Operations"
evidence = "A link."
sources = [
    "002: Runbooks",
    "003: Deployment Runbook",
]
"""


def write(tmp_path: Path, text: str, name: str = "broken.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the ``occurrence``-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in text"
    return hits[occurrence - 1]


def load_error(path: Path) -> ChecklistError:
    with pytest.raises(ChecklistError) as caught:
        load_checklist(path)
    return caught.value


def assert_names(error: ChecklistError, path: Path, line: int, field: str) -> None:
    message = str(error)
    assert path.name in message
    assert f"{path.name}:{line}:" in message, message
    assert field in message, message


def test_valid_base_file_loads(tmp_path: Path) -> None:
    checklist = load_checklist(write(tmp_path, VALID, "ok.toml"))
    assert [item.id for item in checklist.items] == ["host.disk_free", "ops.runbook"]


def test_toml_syntax_error_names_file_line_and_key(tmp_path: Path) -> None:
    text = VALID.replace('title = "Runbook"', 'title = "Runbook')
    path = write(tmp_path, text)
    error = load_error(path)
    line = line_of(text, 'title = "Runbook')
    assert_names(error, path, line, "items[1].title")
    assert "TOML syntax error" in str(error)
    assert error.problems[0].line == line


def test_toml_missing_equals_names_the_key_on_that_line(tmp_path: Path) -> None:
    text = VALID.replace('why = "Full disks stop writes."', 'why "Full disks stop writes."')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'why "Full'), "items[0].why")


def test_toml_unclosed_array_points_at_end_of_file(tmp_path: Path) -> None:
    text = VALID.rstrip().removesuffix("]")
    path = write(tmp_path, text)
    error = load_error(path)
    assert error.problems[0].line == len(text.splitlines())
    assert "end of file" in str(error)


def test_wrong_severity_names_line_field_and_value(tmp_path: Path) -> None:
    text = VALID.replace('severity = "advisory"', 'severity = "urgent"')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'severity = "urgent"'), "items[1].severity")
    assert "'urgent'" in str(error)
    assert "'blocking' or 'advisory'" in str(error)


def test_unknown_field_names_line_and_field(tmp_path: Path) -> None:
    text = VALID.replace('title = "Disk"', 'title = "Disk"\ncolour = "red"')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'colour = "red"'), "items[0].colour")
    assert "unknown field 'colour'" in str(error)


def test_unknown_top_level_table_is_an_error(tmp_path: Path) -> None:
    text = VALID + '\n[extras]\nnote = "x"\n'
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, "[extras]"), "extras")


def test_missing_title_points_at_the_items_header(tmp_path: Path) -> None:
    text = VALID.replace('title = "Runbook"\n', "")
    path = write(tmp_path, text)
    error = load_error(path)
    # The missing field has no line of its own; the item's [[items]] header is the place to add it.
    assert_names(error, path, line_of(text, "[[items]]", occurrence=2), "items[1].title")
    assert "missing required field 'title'" in str(error)
    assert "'ops.runbook'" in str(error)  # the message also says which item


def test_missing_checklist_title_points_at_checklist_table(tmp_path: Path) -> None:
    text = VALID.replace('title = "Mini"\n', "")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, "[checklist]"), "checklist.title")


def test_duplicate_id_points_at_second_id_line(tmp_path: Path) -> None:
    text = VALID.replace('id = "ops.runbook"', 'id = "host.disk_free"')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'id = "host.disk_free"', occurrence=2), "items[1].id")
    assert "duplicate item id 'host.disk_free'" in str(error)


def test_unknown_probe_names_line_field_and_probe(tmp_path: Path) -> None:
    text = VALID.replace('probe = "host.disk"', 'probe = "host.disks"')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'probe = "host.disks"'), "items[0].probe")
    assert "unknown probe 'host.disks'" in str(error)
    assert "host.disk," in str(error)  # the registered probes are listed


def test_probe_item_without_probe_is_an_error(tmp_path: Path) -> None:
    text = VALID.replace('probe = "host.disk"\n', "").replace(
        "[items.params]\nmin_free_percent = 10\n", ""
    )
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, "[[items]]"), "items[0].probe")


def test_manual_item_with_probe_is_an_error(tmp_path: Path) -> None:
    text = VALID.replace('kind = "manual"', 'kind = "manual"\nprobe = "host.memory"')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'probe = "host.memory"'), "items[1].probe")


def test_bad_probe_param_value_names_params_table_and_parameter(tmp_path: Path) -> None:
    text = VALID.replace("min_free_percent = 10", "min_free_percent = -5")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, "[items.params]"), "items[0].params")
    assert "min_free_percent" in str(error)


def test_unknown_probe_param_is_an_error(tmp_path: Path) -> None:
    text = VALID.replace("min_free_percent = 10", "min_free_pct = 10")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, "[items.params]"), "items[0].params")
    assert "min_free_pct" in str(error)


def test_bad_source_after_multiline_array_names_its_line(tmp_path: Path) -> None:
    text = VALID.replace('"003: Deployment Runbook",', '"Deployment Runbook",')
    path = write(tmp_path, text)
    error = load_error(path)
    # Lines inside a multi-line array are not keys; the error points at `sources =`.
    sources_line = line_of(text, "sources = [", occurrence=2)
    assert_names(error, path, sources_line, "items[1].sources[1]")


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    text = VALID.replace('owner = "Operations"', 'owner = "Ops"').replace(
        'severity = "blocking"', 'severity = "high"'
    )
    path = write(tmp_path, text)
    error = load_error(path)
    assert [p.field for p in error.problems] == ["items[0].severity", "items[1].owner"]
    assert [p.line for p in error.problems] == [
        line_of(text, 'severity = "high"'),
        line_of(text, 'owner = "Ops"'),
    ]
    assert "2 problems" in str(error)


def test_empty_items_is_an_error(tmp_path: Path) -> None:
    text = "items = []\n" + VALID[: VALID.index("[[items]]")]
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, "items = []"), "items")
    assert "at least one item" in str(error)


def test_missing_file_raises_checklisterror(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    error = load_error(path)
    assert "absent.toml" in str(error)
    assert "cannot read file" in str(error)


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(VALID.replace("Mini", "Mini\xe9").encode("latin-1"))
    error = load_error(path)
    assert error.problems[0].line == line_of(VALID, 'title = "Mini"')
    assert "UTF-8" in str(error)


def test_source_map_skips_multiline_strings_and_arrays() -> None:
    text = (
        'a = """\n'
        "b = 1 is text, not a key\n"
        '"""\n'
        "c = [\n"
        "  1, # d = 2\n"
        "]\n"
        "[t]\n"
        'e.f = { g = 1, h = "i = 2" }\n'
    )
    lines = scan(text).lines
    assert lines[("a",)] == 1
    assert ("b",) not in lines
    assert lines[("c",)] == 4
    assert ("d",) not in lines
    assert lines[("t",)] == 7
    assert lines[("t", "e", "f")] == 8
    assert lines[("t", "e", "f", "g")] == 8
    assert ("t", "e", "f", "i") not in lines


def test_a_scope_the_probe_cannot_examine_names_line_field_and_what_it_can(
    tmp_path: Path,
) -> None:
    text = VALID.replace('probe = "host.disk"', 'probe = "host.disk"\nscope = "target-database"')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'scope = "target-database"'), "items[0].scope")
    assert "probe 'host.disk' examines target-host or quarterdeck, not target-database" in str(
        error)  # fmt: skip


def test_a_manual_item_claiming_a_scope_is_refused(tmp_path: Path) -> None:
    text = VALID.replace('kind = "manual"', 'kind = "manual"\nscope = "target"')
    path = write(tmp_path, text)
    error = load_error(path)
    assert_names(error, path, line_of(text, 'scope = "target"'), "items[1].scope")


def test_each_item_has_its_scope_once_loaded(tmp_path: Path) -> None:
    checklist = load_checklist(write(tmp_path, VALID, "ok.toml"))
    assert [item.scope for item in checklist.items] == ["target-host", "manual"]
