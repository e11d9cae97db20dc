"""巡视巡察上下联动: the linkage rules between provincial, city and county inspection.

Owns, on top of ``workflow.service`` (which still writes every issue state):

- task linkage (任务部署联动, 三级联动): :func:`push_down` turns a provincial finding into
  a tree of common problems, one per tier (province → city → county), whose leaves are
  the matching units' rectification issues (``workflow.linkage.push``); :func:`rollup`
  counts a tree at each level (``workflow.linkage.rollup``);
- organisation linkage (组织方式联动): a provincial inspection of a unit and the unit's
  simultaneous internal inspection share one information space (:func:`shared_space`,
  :func:`visible_findings_for_team`), and result and information linkage (成果运用 /
  信息运用联动): :func:`earlier_findings` of lower levels for a higher-level team
  (``workflow.linkage.shared``);
- relay inspection (接力式巡察): :func:`carry_over`, :func:`relay_view`, :func:`link_check`
  (``workflow.linkage.relay``).

Rounds live in ``workflow.linkage.rounds``, teams in ``teams``, the 回避 rule in ``recusal``,
the policy in ``settings`` and what they share (:class:`Refused`, look-ups) in ``common``;
network figures in ``workflow.linkage.network`` (``metrics``, ``figures``, ``stats``),
rectification quality in its ``quality`` and special checks in its ``checks``; what a
reader reaches in ``visibility`` and what the linkage pages read in ``reads``.
All are re-exported here, so ``workflow.linkage`` is the one import of the linkage API.
Problem leads (restricted) never enter a shared space: their details stay with the
discipline commission.  Every change appends an audit event.  Must not import flask.
"""

from __future__ import annotations

from workflow.linkage.common import Refused, resolve_round, resolve_unit
from workflow.linkage.network.checks import SpecialCheckResult, run_special_check
from workflow.linkage.network.figures import enter_figure
from workflow.linkage.network.metrics import METRICS, Metric
from workflow.linkage.network.quality import QualityRates, rectification_quality
from workflow.linkage.network.stats import NetworkReport, network_statistics
from workflow.linkage.push import PushResult, PushRule, matching_units, push_down
from workflow.linkage.reads import (
    issue_numbers,
    pushable_finding,
    pushed_root,
    recent_pushed_problems,
    relay_rounds,
    round_by_id,
    round_teams,
    rounds_by_id,
    rounds_page,
    shared_findings_page,
    special_checks_page,
    team_members,
    team_refusals,
    team_target_units,
    unit_by_id,
    units_by_id,
    user_by_username,
    visible_children,
)
from workflow.linkage.recusal import check_assignment, recusal_reason
from workflow.linkage.relay import RelayItem, carry_over, link_check, relay_view
from workflow.linkage.rollup import Rollup, rollup
from workflow.linkage.rounds import create_round
from workflow.linkage.settings import LinkageSettings, SpecialCheckThresholds
from workflow.linkage.shared import (
    earlier_findings,
    earlier_findings_for_team,
    shared_space,
    simultaneous_rounds,
    visible_findings_clause,
    visible_findings_for_team,
)
from workflow.linkage.teams import add_member, add_target, form_team
from workflow.linkage.visibility import (
    find_round,
    find_team,
    round_clause,
    rounds_in_reach,
    teams_clause,
    under,
    unit_choices,
    visible_issue_ids,
)

__all__ = [
    "METRICS",
    "LinkageSettings",
    "Metric",
    "NetworkReport",
    "PushResult",
    "PushRule",
    "QualityRates",
    "Refused",
    "RelayItem",
    "Rollup",
    "SpecialCheckResult",
    "SpecialCheckThresholds",
    "add_member",
    "add_target",
    "carry_over",
    "check_assignment",
    "create_round",
    "earlier_findings",
    "earlier_findings_for_team",
    "enter_figure",
    "find_round",
    "find_team",
    "form_team",
    "issue_numbers",
    "link_check",
    "matching_units",
    "network_statistics",
    "push_down",
    "pushable_finding",
    "pushed_root",
    "recent_pushed_problems",
    "rectification_quality",
    "recusal_reason",
    "relay_rounds",
    "relay_view",
    "resolve_round",
    "resolve_unit",
    "rollup",
    "round_by_id",
    "round_clause",
    "round_teams",
    "rounds_by_id",
    "rounds_in_reach",
    "rounds_page",
    "run_special_check",
    "shared_findings_page",
    "shared_space",
    "simultaneous_rounds",
    "special_checks_page",
    "team_members",
    "team_refusals",
    "team_target_units",
    "teams_clause",
    "under",
    "unit_by_id",
    "unit_choices",
    "units_by_id",
    "user_by_username",
    "visible_children",
    "visible_findings_clause",
    "visible_findings_for_team",
    "visible_issue_ids",
]
