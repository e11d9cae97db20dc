"""The shipped definitions load, have the shape the brief describes, and are frozen."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from workflow.definition import (
    FIELD_TYPES,
    ISSUE_ATTRS,
    LETTERS,
    LEVELS,
    RECIPIENTS,
    ROLES,
    STAGES,
    Definition,
    DefinitionError,
    check_paths,
    load_definition,
    load_directory,
    migration_report,
    parse_definition,
)

DEFS = Path(__file__).parent.parent / "definitions"


@pytest.fixture(scope="module")
def defs() -> dict[str, Definition]:
    return load_directory(DEFS)


@pytest.fixture(scope="module")
def rect(defs: dict[str, Definition]) -> Definition:
    return defs["rectification"]


def test_every_shipped_definition_loads(defs: dict[str, Definition]) -> None:
    """The three definitions load and check_paths finds nothing."""
    assert set(defs) == {"rectification", "problem_lead", "common_problem"}
    assert check_paths([DEFS]) == []
    for name, d in defs.items():
        assert d.kind == name
        assert len(d.version) == 64


def test_vocabulary_constants() -> None:
    """The module constants hold the names the spec lists."""
    assert "unit_head" in ROLES and "spot_check" in ROLES
    assert {"responsible_unit", "requester", "actor"} <= RECIPIENTS
    assert {"progress", "checker", "measures_text"} <= ISSUE_ATTRS
    assert {"measures", "units", "user"} <= FIELD_TYPES
    assert "talk_notice" in LETTERS
    assert "verification" in STAGES
    assert sorted(LEVELS) == ["red", "reminder", "yellow"]


RECT_ACTIONS = {
    "sign_for": (("transferred",), ("planning",)),
    "return_to_office": (("transferred",), ("returned",)),
    "reassign": (("transferred", "returned"), ("transferred",)),
    "submit_plan": (("planning",), ("plan_attest",)),
    "return_plan": (("plan_attest",), ("planning",)),
    "attest_plan": (("plan_attest",), ("plan_review",)),
    "approve_plan": (("plan_review",), ("correcting",)),
    "reject_plan": (("plan_review",), ("planning",)),
    "fix_now_done": (("planning",), ("acceptance",)),
    "report_progress": (("correcting",), ("correcting",)),
    "request_extension": (("correcting",), ("extension_review",)),
    "approve_extension": (("extension_review",), ("correcting",)),
    "reject_extension": (("extension_review",), ("correcting",)),
    "request_closeout": (("correcting",), ("closeout_attest",)),
    "return_closeout": (("closeout_attest",), ("correcting",)),
    "attest_closeout": (("closeout_attest",), ("acceptance",)),
    "accept": (("acceptance",), ("closed", "re_rectify")),
    "reject_closeout": (("acceptance",), ("re_rectify",)),
    "mark_ongoing": (("acceptance",), ("ongoing",)),
    "restart_rectification": (("re_rectify",), ("correcting",)),
    "report_periodic": (("ongoing",), ("ongoing",)),
    "assign_checker": (("closed",), ("closed",)),
    "followup_holds": (("closed",), ("archived",)),
    "followup_relapse": (("closed",), ("correcting",)),
}


def test_rectification_actions_have_the_specified_sources_and_targets(rect: Definition) -> None:
    """Each action of the default life of an issue goes where BRIEF §3 says."""
    got = {name: (a.sources, a.targets()) for name, a in rect.actions.items()}
    assert got == RECT_ACTIONS


def test_rectification_states(rect: Definition) -> None:
    """Stages, kinds and final flags follow the brief."""
    assert rect.initial == "transferred"
    assert rect.state("transferred").stage == "transfer"
    assert rect.state("correcting").stage == "correction"
    assert rect.state("acceptance").stage == "verification"
    assert (rect.state("closed").kind, rect.state("closed").stage) == ("closed", "closed")
    archived = rect.state("archived")
    assert (archived.kind, archived.stage, archived.final) == ("closed", "archived", True)
    assert rect.state("ongoing").kind == "ongoing"
    assert rect.state("re_rectify").label.zh == "二次整改"
    assert [s for s, st in rect.states.items() if st.final] == ["archived"]
    assert rect.actions_from("archived") == []
    with pytest.raises(KeyError):
        rect.state("nowhere")


def test_rectification_roles_guards_and_effects(rect: Definition) -> None:
    """Separation of duties, 回避, evidence and clocks are wired as the brief asks."""
    a = rect.actions
    assert a["sign_for"].roles == {"unit_user", "unit_head"}
    assert a["submit_plan"].guards[0].kind == "measures"
    assert a["submit_plan"].guards[0].args == {"min": 1}
    assert a["attest_plan"].fields["attested"].must_be_true
    approve = a["approve_plan"]
    assert approve.roles == {"supervisor"}
    sod = next(g for g in approve.guards if g.kind == "not_actor_of")
    assert sod.args["actions"] == ("submit_plan", "attest_plan")
    assert any(g.kind == "recusal" for g in approve.guards)
    start = next(e for e in approve.effects if e.kind == "start_clock")
    assert start.args == {"clock": "rectify", "due_field": "due_on"}
    ext = next(e for e in a["approve_extension"].effects if e.kind == "extend_clock")
    assert ext.args == {"clock": "rectify", "field": "new_due"}
    assert a["request_closeout"].guards[0].args == {"min": 1}
    store = next(e for e in a["request_closeout"].effects if e.kind == "store")
    assert store.args["fields"] == (
        "completion",
        "rules_written",
        "money_recovered",
        "people_handled",
    )
    acc = a["accept"]
    assert acc.fields["grade"].choices == ("好", "较好", "一般", "差")
    acc_sod = next(g for g in acc.guards if g.kind == "not_actor_of")
    assert acc_sod.args["actions"][:2] == ("request_closeout", "attest_closeout")
    assert any(g.kind == "recusal" for g in acc.guards)
    assert acc.target_for({"grade": "好"}) == "closed"
    assert acc.target_for({"grade": "差"}) == "re_rectify"
    assert "start_clock" in [e.kind for e in acc.effects_for({"grade": "较好"})]
    back = acc.effects_for({"grade": "一般"})
    assert ("start_clock", "re_rectify") in [(e.kind, e.args.get("clock")) for e in back]
    assert "followup" not in [e.args.get("clock") for e in back]
    assert [g.kind for g in a["followup_holds"].guards] == ["recusal"]
    assert [g.kind for g in a["followup_relapse"].guards] == ["recusal"]
    relapse = next(e for e in a["followup_relapse"].effects if e.kind == "start_clock")
    assert relapse.args == {"clock": "rectify", "due_field": "new_due"}
    assert a["fix_now_done"].guards[0].args == {"values": ("fix_now",)}
    dtype = next(g for g in a["mark_ongoing"].guards if g.kind == "deadline_type")
    assert dtype.args == {"values": ("ongoing",)}


def test_rectification_clocks(rect: Definition) -> None:
    """Clock lengths, ladders and count rules follow BRIEF §4."""
    c = rect.clocks
    assert (c["sign_for"].counts, c["sign_for"].amount) == ("working_days", 5)
    assert (c["plan"].counts, c["plan"].amount) == ("months", 2)
    assert (c["rectify"].counts, c["rectify"].amount) == ("months", 6)
    assert (c["followup"].counts, c["followup"].amount) == ("months", 6)
    assert (c["periodic_report"].counts, c["periodic_report"].amount) == ("months", 3)
    rungs = {r.name: r for r in c["rectify"].ladder}
    assert [r.at for r in c["rectify"].ladder] == [-7, -1, 1, 15, 30]
    assert all(r.unit == "working_days" for r in c["rectify"].ladder)
    assert rungs["red"].letter == "supervision_notice"
    assert rungs["admonition"].letter == "admonition" and rungs["admonition"].level == "red"
    # each rung notifies wider: the unit, then its supervisor, then the leading group
    assert rungs["remind_7"].notify == ("responsible_unit",)
    assert "supervisor" in rungs["yellow"].notify
    assert "leader" in rungs["red"].notify
    rules = {r.name: r for r in c["rectify"].count_rules}
    assert (rules["written_supervision"].rung, rules["written_supervision"].count) == ("yellow", 2)
    talk = rules["talk"]
    assert (talk.rung, talk.count, talk.consecutive, talk.letter) == ("red", 3, True, "talk_notice")
    assert "leader" in talk.notify


def test_problem_lead(defs: dict[str, Definition]) -> None:
    """Leads are restricted, pause on hold and only ever tell discipline and office."""
    d = defs["problem_lead"]
    assert d.restricted and d.kind == "problem_lead"
    dispose = d.actions["dispose"]
    assert dispose.target_for({"disposition": "谈话函询"}) == "disposed"
    assert dispose.target_for({"disposition": "暂存待查"}) == "on_hold"
    assert dispose.target_for({"disposition": "予以了结"}) == "outcome_recorded"
    assert "pause_clock" in [e.kind for e in dispose.effects_for({"disposition": "暂存待查"})]
    assert "pause_clock" not in [e.kind for e in dispose.effects_for({"disposition": "初步核实"})]
    assert [e.kind for e in d.actions["resume"].effects] == ["resume_clock"]
    fb = d.clocks["feedback"]
    assert (fb.counts, fb.amount, fb.pause) == ("months", 3, "shift")
    told = {r for rung in fb.ladder for r in rung.notify}
    told |= {
        r for a in d.actions.values() for e in a.effects if e.kind == "notify" for r in e.args["to"]
    }
    assert told <= {"discipline", "office"}
    assert all(a.roles <= {"discipline", "office"} for a in d.actions.values())
    assert d.state("fed_back").final


def test_common_problem(defs: dict[str, Definition]) -> None:
    """A common problem fans out rectification children and closes when they are done."""
    d = defs["common_problem"]
    spawn = d.actions["fan_out"].effects[0]
    assert spawn.kind == "spawn_children"
    assert spawn.args == {"definition": "rectification", "units_field": "units"}
    assert d.actions["add_units"].sources == ("fanned_out",)
    assert d.actions["add_units"].target == "fanned_out"
    assert [g.kind for g in d.actions["close_parent"].guards] == ["children_closed"]


def test_definitions_are_frozen(rect: Definition) -> None:
    """Nothing in a loaded definition can be changed in place."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        rect.initial = "closed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rect.states["x"] = rect.states["closed"]  # type: ignore[index]
    with pytest.raises(TypeError):
        rect.actions["accept"].fields["x"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        rect.actions["approve_plan"].effects[1].args["clock"] = "x"  # type: ignore[index]


def test_version_is_the_sha256_of_the_source() -> None:
    """Any edit to the text is a new version."""
    import hashlib

    text = (DEFS / "common_problem.yaml").read_text(encoding="utf-8")
    d = parse_definition(text, "common_problem.yaml")
    assert d.version == hashlib.sha256(text.encode()).hexdigest()
    assert parse_definition(text + "# x\n", "common_problem.yaml").version != d.version
    assert load_definition(DEFS / "common_problem.yaml").version == d.version


def test_load_directory_aggregates_problems(tmp_path: Path) -> None:
    """One bad file makes load_directory raise with that file's problems."""
    (tmp_path / "common_problem.yaml").write_text("name: common_problem\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_directory(tmp_path)
    assert all(p.file.endswith("common_problem.yaml") for p in info.value.problems)
    assert any("missing required key 'states'" in p.message for p in info.value.problems)


def _variant(rect: Definition, old: str, new: str) -> Definition:
    assert old in rect.source
    return parse_definition(rect.source.replace(old, new, 1), "rectification.yaml")


def test_migration_state_removed_while_in_use_blocks(rect: Definition) -> None:
    """Issues in a state the new version lacks block the move, unless mapped."""
    # remove the extension review step: request_extension now waits in correcting itself
    text = (
        rect.source.replace(
            "  extension_review:\n    label: {zh: 延期待审批, en: Extension under review}\n"
            "    kind: open\n    stage: correction\n",
            "",
        )
        .replace("to: extension_review", "to: correcting")
        .replace("from: extension_review", "from: correcting")
    )
    new = parse_definition(text, "rectification.yaml")
    rep = migration_report(rect, new, {"extension_review": 3, "correcting": 10})
    assert rep.blockers and "extension_review" in rep.blockers[0]
    assert "state 'extension_review' removed" in rep.changes
    mapped = migration_report(
        rect, new, {"extension_review": 3}, {"extension_review": "correcting"}
    )
    assert mapped.blockers == []
    assert any("move from state 'extension_review' to 'correcting'" in c for c in mapped.changes)
    bad_map = migration_report(rect, new, {"extension_review": 3}, {"extension_review": "limbo"})
    assert bad_map.blockers
    unused = migration_report(rect, new, {"correcting": 10})
    assert unused.blockers == []


def test_migration_clock_change_blocks_unless_allowed(rect: Definition) -> None:
    """A changed clock length is a blocker unless allow_clock_changes."""
    new = _variant(
        rect, "counts: working_days\n    amount: 5\n", "counts: working_days\n    amount: 7\n"
    )
    rep = migration_report(rect, new, {"transferred": 1})
    assert len(rep.blockers) == 1 and "clock 'sign_for'" in rep.blockers[0]
    allowed = migration_report(rect, new, {"transferred": 1}, allow_clock_changes=True)
    assert allowed.blockers == [] and any("clock 'sign_for'" in c for c in allowed.changes)


def test_migration_added_action_is_only_a_change(rect: Definition) -> None:
    """Adding an action is listed but blocks nothing."""
    extra = (
        "  withdraw:\n    label: {zh: 撤回, en: Withdraw}\n    from: returned\n"
        "    to: archived\n    roles: [office]\n\nclocks:\n"
    )
    new = _variant(rect, "\nclocks:\n", "\n" + extra)
    rep = migration_report(rect, new, {"returned": 2, "closed": 5})
    assert rep.blockers == []
    assert rep.changes == ["action 'withdraw' added"]
