"""巡视巡察上下联动 pages: rounds and teams (交叉巡察 / 回避, relay, shared information
space), push-down and roll-up (三级联动), special checks of lower levels' inspection work,
and the network statistics with their written definitions.

The office manages; supervisors and leaders read within their subtree; anyone else gets
404.  Every rule is the engine's (``workflow.linkage``): views parse the form, call it,
commit, and render.  One blueprint, its views in one module per area:

- ``linkage_rounds``: rounds, teams, members and targets;
- ``linkage_teams``: a team's relay items and shared information space;
- ``linkage_push``: push-down and roll-up;
- ``linkage_checks``: special checks;  ``linkage_network``: the network statistics;
- ``linkage_scope`` (what a reader reaches) and ``linkage_common`` (the blueprint, forms).
"""

from __future__ import annotations

from flask import Flask

# imported for their routes, which they add to the blueprint
from web.pages import (  # noqa: F401
    linkage_checks,
    linkage_network,
    linkage_push,
    linkage_rounds,
    linkage_teams,
)
from web.pages.linkage_common import bp


def register(app: Flask) -> None:
    """Register the linkage pages on ``app``."""
    app.register_blueprint(bp)
