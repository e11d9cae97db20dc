"""The settings of the linkage rules: a province's policy, passed in by the caller.

Settings are never constants — provinces differ — so every rule takes a
:class:`LinkageSettings` (default :data:`DEFAULT_SETTINGS`).  Must not import flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from workflow.messages import N_, Text

BAD_SCOPE = Text(
    "linkage_bad_recusal_scope", N_("recusal_scope %(scope)r: unit, parent or subtree")
)

RecusalScope = Literal["unit", "parent", "subtree"]


@dataclass(frozen=True)
class SpecialCheckThresholds:
    """Pass marks of the 专项检查 checklist of a lower level's inspection work.

    Rates are fractions (0.9 = 90 %).  ``min_*`` must be reached, ``max_*`` not exceeded.
    """

    min_completion_rate: float = 0.9
    max_overdue_rate: float = 0.1
    max_relapse_rate: float = 0.1
    min_leads_on_time_rate: float = 0.9
    lead_feedback_days: int = 90  # 线索办理 feedback due about 3 months after transfer


@dataclass(frozen=True)
class LinkageSettings:
    """Settings of the linkage rules (a province's policy, passed in by the caller).

    ``recusal_scope`` — who is too close to a target unit (交叉巡察 / 回避):

    - ``"unit"``: people of the target unit itself;
    - ``"subtree"`` (default): people of the target unit or of any unit inside it;
    - ``"parent"``: as ``"subtree"``, and also people of the target's direct parent unit
      (the strictest: a township's own county may not inspect it either).

    ``relay_states`` — which state kinds of earlier items a relay round sees
    (relapsed items are always shown).  ``special_check`` — the checklist's pass marks.
    ``push_tiers`` — the unit levels that get their own common-problem parent when a
    finding is pushed down (三级联动).
    """

    recusal_scope: RecusalScope = "subtree"
    relay_states: tuple[str, ...] = ("open", "ongoing")
    special_check: SpecialCheckThresholds = field(default_factory=SpecialCheckThresholds)
    push_tiers: tuple[str, ...] = ("city", "county")

    def __post_init__(self) -> None:
        """Refuse a recusal scope the rule does not know."""
        if self.recusal_scope not in ("unit", "parent", "subtree"):
            raise ValueError(BAD_SCOPE(scope=self.recusal_scope))


DEFAULT_SETTINGS = LinkageSettings()
