"""The 巡视巡察上下联动监督网 in figures: the one written definition of every figure
(``metrics``), entered figures with their source (``figures``), the statistics per level and
round (``stats``), rectification quality (``quality``) and the special checks of lower levels'
inspection work (``checks``).  Its public names are re-exported here and from
``workflow.linkage``.  Must not import flask."""

from __future__ import annotations

from workflow.linkage.network.checks import SpecialCheckResult, run_special_check
from workflow.linkage.network.figures import enter_figure
from workflow.linkage.network.metrics import ENTERED, METRICS, Metric
from workflow.linkage.network.quality import QualityRates, rectification_quality
from workflow.linkage.network.stats import NetworkReport, network_statistics

__all__ = [
    "ENTERED",
    "METRICS",
    "Metric",
    "NetworkReport",
    "QualityRates",
    "SpecialCheckResult",
    "enter_figure",
    "network_statistics",
    "rectification_quality",
    "run_special_check",
]
