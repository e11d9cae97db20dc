"""The one written definition of every figure of the 巡视巡察上下联动监督网: zh and en
label, definition text, and whether it is *computed* from data or *entered* with its
source.  Data only; must not import flask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from workflow.messages import N_

Mode = Literal["computed", "entered"]


@dataclass(frozen=True)
class Metric:
    """One network statistic and its single written definition."""

    key: str
    zh: str
    en: str
    definition: str  # a catalogue message id (N_): the pages show it translated
    mode: Mode
    breakdown: str | None = None  # the column a computed figure is broken down by


METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric(
            "units_covered",
            "巡视巡察覆盖党组织（个）",
            "Units covered",
            N_(
                "Distinct units that are a target of any team of the round(s) (TeamTarget); a unit "
                "inspected by two teams or rounds of the same group counts once."
            ),
            "computed",
        ),
        Metric(
            "individual_talks",
            "个别谈话（人次）",
            "Individual talks",
            N_(
                "People talked to individually by the teams, as reported by the office with its "
                "source; one person talked to twice counts twice."
            ),
            "entered",
        ),
        Metric(
            "petitions",
            "受理来信来电来访（批件次）",
            "Letters, calls and visits received",
            N_(
                "Batches of letters, calls and visits from the public received by the teams, as "
                "reported with its source."
            ),
            "entered",
        ),
        Metric(
            "personal_matter_checks",
            "抽查核实个人有关事项报告（人）",
            "Personal-matter reports checked",
            N_(
                "Leading cadres whose personal-matter report (个人有关事项报告) was sampled and "
                "verified, as reported with its source."
            ),
            "entered",
        ),
        Metric(
            "assistance_requests",
            "提请有关单位协助（件次）",
            "Assistance requested",
            N_(
                "Requests for assistance sent to other bodies (audit, discipline, organisation "
                "departments), as reported with its source."
            ),
            "entered",
        ),
        Metric(
            "leads_transferred",
            "移交问题线索（条）",
            "Leads transferred",
            N_(
                "Problem leads (problem_lead issues) registered in the round(s), whatever their "
                "state, broken down by the cadre level of the person concerned (未注明 when not "
                "recorded)."
            ),
            "computed",
            "cadre_level",
        ),
        Metric(
            "cases_opened",
            "立案（件）",
            "Cases opened",
            N_(
                "Sum of the cases opened (立案) recorded on the round's problem leads by the "
                "discipline commission (record_outcome)."
            ),
            "computed",
        ),
        Metric(
            "sanctions",
            "党纪政务处分（人）",
            "Party and government sanctions",
            N_(
                "Sum of the people sanctioned (党纪政务处分) recorded on the round's problem leads."
            ),
            "computed",
        ),
        Metric(
            "org_measures",
            "组织处理（人）",
            "Organisational measures",
            N_(
                "Sum of the people given organisational measures or adjustments (组织处理/组织调整) "
                "recorded on the round's problem leads."
            ),
            "computed",
        ),
        Metric(
            "problems_found",
            "发现问题（个）",
            "Problems found",
            N_(
                "Rectification and common-problem issues registered in the round(s) that are not "
                "the children a common problem was fanned out into (the same problem rectified "
                "unit by unit), broken down by category (未归类 when blank).  Items carried over "
                "or linked to an earlier round are included and also counted in relay_linked."
            ),
            "computed",
            "category",
        ),
        Metric(
            "relay_linked",
            "接力跟踪问题（个）",
            "Relay items",
            N_(
                "Of problems_found, those linked to an earlier round's item (carried over or "
                "re-checked: linked_issue_id set)."
            ),
            "computed",
        ),
    ]
}
ENTERED = tuple(k for k, m in METRICS.items() if m.mode == "entered")
COMPUTED = tuple(k for k, m in METRICS.items() if m.mode == "computed")
# what the lower levels hand up: the same definitions over rounds organised below the unit
HANDED_UP = ("units_covered", "problems_found", "leads_transferred", "cases_opened")
