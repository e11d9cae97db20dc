"""巡视巡察上下联动 pages: rounds and teams (交叉巡察 / 回避, relay, shared information
space), push-down and roll-up (三级联动), special checks of lower levels' inspection work,
and the network statistics with their written definitions.

The office manages; supervisors and leaders read within their subtree; anyone else gets
404.  Every rule is the engine's (``workflow.linkage``): views parse the form, call it,
commit, and render.  One blueprint, its views in one module per area:

- ``rounds``: rounds, teams, members and targets;
- ``teams``: a team's relay items and shared information space;
- ``push``: push-down and roll-up;
- ``checks``: special checks;  ``network``: the network statistics;
- ``scope`` (what a reader reaches) and ``common`` (the blueprint, forms).
"""

from __future__ import annotations

from flask import Flask

# imported for their routes, which they add to the blueprint
from web.pages.linkage import checks, network, push, rounds, teams  # noqa: F401
from web.pages.linkage.common import bp


def register(app: Flask) -> None:
    """Register the linkage pages on ``app``."""
    app.register_blueprint(bp)
