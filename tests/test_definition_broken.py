"""Every broken definition in tests/broken_definitions/ is refused with the right position."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.definition import DefinitionError, check_paths, load_definition, parse_definition

HERE = Path(__file__).parent / "broken_definitions"

# file stem -> (expected "line:col", a substring of the message)
EXPECTED = {
    "action_leaves_final_state": ("16:12", "leaves the final state 'done'"),
    "amount_not_an_int": ("18:13", "expected a whole number, got 'forty'"),
    "amount_not_positive": ("18:13", "amount must be greater than 0"),
    "boolean_action_name": ("14:3", "action name 'yes' is read as a boolean by YAML; quote it"),
    "boolean_choice_value": ("15:39", "choice 'yes' is read as a boolean"),
    "boolean_state_name": (
        "8:3",
        "state name 'on' is read as a boolean by YAML; quote it or rename",
    ),
    "branch_on_non_choice_field": ("17:16", "must be a choice field to branch on"),
    "branch_value_not_a_choice": ("17:28", "'很差' is not a choice of field 'grade'"),
    "choice_without_choices": ("15:14", "a choice field needs a non-empty choices list"),
    "choices_on_text_field": ("15:35", "choices only applies to choice fields"),
    "clock_from_unknown_action": ("19:11", "unknown action 'approve'"),
    "count_rule_unknown_rung": ("23:28", "unknown rung 'red'"),
    "dead_end_state": ("8:3", "state 'stuck' is a dead end"),
    "duplicate_key": ("14:3", "duplicate key 'finish' (first at line 9)"),
    "duplicate_rung_name": ("22:16", "duplicate rung name (first at line 21)"),
    "empty_file": ("1:1", "the file is empty"),
    "guard_bad_deadline_type": ("15:25", "unknown value 'someday'"),
    "invalid_identifier": ("8:3", "'Sign-For' is not a valid identifier"),
    "label_zh_not_text": ("6:22", "expected text, got the number 42"),
    "missing_initial": ("1:1", "missing required key 'initial'"),
    "missing_label": ("10:5", "action finish: missing required key 'label'"),
    "name_not_file_stem": ("1:7", "must equal the file name 'name_not_file_stem'"),
    "not_actor_of_unknown_action": ("15:24", "unknown action 'request_closeout'"),
    "problem_lead_not_restricted": ("1:1", "must be restricted: true"),
    "restricted_recipient": ("16:23", "'responsible_unit' may not be told about a restricted"),
    "roles_not_a_list": ("13:12", "expected a list, got a mapping"),
    "rung_default_unit_months": ("21:9", "the clock counts months, which cannot be a rung unit"),
    "rung_unit_months": ("21:37", "months cannot be a rung unit"),
    "rung_with_empty_notify": ("21:71", "notify: the list must not be empty"),
    "rung_without_notify": ("21:9", "missing notify"),
    "spawn_children_bad_definition_name": ("17:38", "'Rectification-V2' is not a valid identifier"),
    "store_field_not_an_issue_attribute": ("17:17", "'summary' is not an issue attribute"),
    "top_level_not_mapping": ("1:1", "expected a mapping"),
    "unknown_clock_in_effect": ("15:22", "unknown clock 'rectify'"),
    "unknown_definition_kind": ("3:7", "unknown value 'complaint'"),
    "unknown_due_field": ("15:50", "due_field: unknown field 'new_due'"),
    "unknown_effect": ("15:9", "unknown effect 'send_fax'"),
    "unknown_extend_field": ("15:47", "extend_clock field: unknown field 'new_due'"),
    "unknown_field_in_branch": ("15:16", "unknown field 'grade'"),
    "unknown_field_type": ("15:21", "unknown field type 'image'"),
    "unknown_guard": ("16:9", "unknown guard 'full_moon'"),
    "unknown_initial_state": ("4:10", "initial: unknown state 'start'"),
    "unknown_issue_attribute_in_set": ("15:30", "unknown issue attribute 'mood'"),
    "unknown_letter": ("21:87", "unknown value 'love_letter'"),
    "unknown_level": ("21:35", "unknown value 'orange'"),
    "unknown_recipient": ("15:31", "unknown recipient 'press'"),
    "unknown_role": ("13:21", "unknown role 'janitor'"),
    "unknown_stage": ("6:44", "unknown value 'limbo'"),
    "unknown_state_in_branch": ("18:13", "unknown state 'redo'"),
    "unknown_state_in_from": ("11:18", "unknown state 'waiting'"),
    "unknown_state_in_to": ("12:9", "unknown state 'finished'"),
    "unknown_state_key": ("7:79", "unknown key 'colour'"),
    "unknown_state_kind": ("7:43", "unknown value 'finished'"),
    "unknown_store_field": ("15:17", "store: unknown field 'progress'"),
    "unknown_top_level_key": ("14:1", "unknown key 'colour'"),
    "unknown_units_field": ("15:66", "unknown field 'units'"),
    "unreachable_state": ("8:3", "state 'orphan' is unreachable"),
    "yaml_syntax_error": ("10:1", "YAML syntax error"),
}


def test_every_file_has_an_expectation() -> None:
    """No broken file goes unchecked, and no expectation names a missing file."""
    assert {p.stem for p in HERE.glob("*.yaml")} == set(EXPECTED)
    assert len(EXPECTED) >= 25


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_broken_definition_is_refused_at_the_right_place(stem: str) -> None:
    """The file is refused and the expected problem names its line and column."""
    path = HERE / f"{stem}.yaml"
    where, message = EXPECTED[stem]
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    prefix = f"{path}:{where}: "
    lines = str(info.value).splitlines()
    assert any(line.startswith(prefix) and message in line for line in lines), lines
    assert all(p.file == str(path) and p.line >= 1 and p.column >= 1 for p in info.value.problems)


def test_all_problems_are_reported_not_just_the_first() -> None:
    """One pass reports every mistake, in file order."""
    text = (HERE / "unknown_role.yaml").read_text(encoding="utf-8")
    text = text.replace("kind: rectification", "kind: complaint").replace("to: done", "to: nowhere")
    with pytest.raises(DefinitionError) as info:
        parse_definition(text, "many.yaml")
    messages = [p.message for p in info.value.problems]
    assert any("unknown value 'complaint'" in m for m in messages)
    assert any("unknown role 'janitor'" in m for m in messages)
    assert any("unknown state 'nowhere'" in m for m in messages)
    lines = [p.line for p in info.value.problems]
    assert lines == sorted(lines)


def test_check_paths_collects_every_file_of_a_directory() -> None:
    """check_paths on the directory reports every broken file and never raises."""
    problems = check_paths([HERE])
    assert {Path(p.file).stem for p in problems} == set(EXPECTED)


def test_spawn_children_must_name_a_definition_of_the_directory(tmp_path: Path) -> None:
    """Loading a directory checks spawn_children against the definitions beside it."""
    shipped = Path(__file__).parent.parent / "definitions"
    rect = (shipped / "rectification.yaml").read_text(encoding="utf-8")
    (tmp_path / "rectification.yaml").write_text(rect, encoding="utf-8")
    text = (
        (shipped / "common_problem.yaml")
        .read_text(encoding="utf-8")
        .replace("definition: rectification", "definition: rectifcation", 1)
    )
    (tmp_path / "common_problem.yaml").write_text(text, encoding="utf-8")
    problems = check_paths([tmp_path])
    assert len(problems) == 1
    assert "unknown definition 'rectifcation'" in problems[0].message
    # a single file cannot know its neighbours: only the identifier is checked
    assert check_paths([tmp_path / "common_problem.yaml"]) == []


def test_problem_str_is_file_line_column_message() -> None:
    """Problem renders as file:line:column: message and the error joins them by line."""
    with pytest.raises(DefinitionError) as info:
        parse_definition("- a\n", "x.yaml")
    assert (
        str(info.value)
        == "x.yaml:1:1: definition: expected a mapping (key: value lines), got a list"
    )
