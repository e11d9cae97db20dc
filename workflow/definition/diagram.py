"""A definition drawn as an inline SVG state diagram (no JavaScript, no external files).

Owns :func:`to_svg`: states in columns by their breadth-first depth from the initial state
(left to right), one box per state with its label, an arrow per (source, target) pair
labelled with the action labels, self-loops as a small arc above the box, and the issue's
current state marked with the CSS class ``current``.  Every text is XML-escaped, so a
label can never inject markup.  Must not import flask.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from html import escape

from workflow.definition.model import Definition

BOX_H = 40
COL_GAP = 150
ROW_GAP = 50
MARGIN = 30
FONT = 13

STYLE = (
    ".state rect{fill:#fff;stroke:#555;stroke-width:1.5}"
    ".state.final rect{stroke-width:3}"
    ".state.kind-closed rect{fill:#eef7ee}"
    ".state.kind-ongoing rect{fill:#eef2fb}"
    ".state.current rect{fill:#fff3cd;stroke:#c0392b;stroke-width:3}"
    "text{font-family:sans-serif;font-size:13px}"
    ".state text{text-anchor:middle;dominant-baseline:central}"
    ".edge path{fill:none;stroke:#888;stroke-width:1.2}"
    ".edge text{font-size:11px;fill:#444;text-anchor:middle}"
    ".arrowhead{fill:#888}"
)


def _text_width(text: str) -> float:
    # wide (CJK) characters take about twice the room of Latin ones
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return FONT * wide + FONT * 0.6 * (len(text) - wide)


def _layers(d: Definition) -> dict[str, int]:
    """Breadth-first depth of every state from the initial one (unreached states last)."""
    depth = {d.initial: 0}
    queue = deque([d.initial])
    while queue:
        here = queue.popleft()
        for action in d.actions_from(here):
            for target in action.targets():
                if target in d.states and target not in depth:
                    depth[target] = depth[here] + 1
                    queue.append(target)
    last = max(depth.values(), default=-1) + 1
    return {name: depth.get(name, last) for name in d.states}


def to_svg(definition: Definition, current_state: str | None = None, lang: str = "zh") -> str:
    """The definition's state diagram as a self-contained SVG string."""
    d = definition
    depth = _layers(d)
    columns: dict[int, list[str]] = {}
    for name in d.states:  # file order within a column keeps the drawing stable
        columns.setdefault(depth[name], []).append(name)
    labels = {name: st.label.get(lang) for name, st in d.states.items()}
    col_w = {
        c: max(int(_text_width(labels[n])) + 24 for n in names) for c, names in columns.items()
    }
    pos: dict[str, tuple[float, float, float]] = {}  # name -> (x, y, width)
    x = MARGIN
    for c in sorted(columns):
        for row, name in enumerate(columns[c]):
            pos[name] = (x, MARGIN + 20 + row * (BOX_H + ROW_GAP), col_w[c])
        x += col_w[c] + COL_GAP
    width = int(x - COL_GAP + MARGIN)
    rows = max(len(n) for n in columns.values()) if columns else 0
    height = int(MARGIN * 2 + 20 + rows * (BOX_H + ROW_GAP))

    edges: dict[tuple[str, str], list[str]] = {}
    for action in d.actions.values():
        for source in action.sources:
            for target in action.targets():
                if source in pos and target in pos:
                    edges.setdefault((source, target), []).append(action.label.get(lang))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(d.title.get(lang))}">',
        f"<title>{escape(d.title.get(lang))}</title>",
        f"<style>{STYLE}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path class="arrowhead" '
        'd="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ]
    for (source, target), names in edges.items():
        out.append(_edge(pos[source], pos[target], source == target, " / ".join(names)))
    for name, st in d.states.items():
        bx, by, bw = pos[name]
        classes = ["state", f"kind-{st.kind}"]
        if st.final:
            classes.append("final")
        if name == current_state:
            classes.append("current")
        cls = " ".join(classes)
        out.append(
            f'<g class="{cls}" data-state="{escape(name)}">'
            f'<rect class="{cls}" x="{bx:.0f}" y="{by:.0f}" width="{bw:.0f}" height="{BOX_H}" '
            f'rx="6"/><text x="{bx + bw / 2:.0f}" y="{by + BOX_H / 2:.0f}">'
            f"{escape(labels[name])}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _edge(
    src: tuple[float, float, float], dst: tuple[float, float, float], loop: bool, label: str
) -> str:
    """One arrow with its label: straight forward, curved back, or a loop above the box."""
    sx, sy, sw = src
    dx, dy, dw = dst
    if loop:
        cx, top = sx + sw / 2, sy
        path = f"M{cx - 12:.0f},{top:.0f} C{cx - 30:.0f},{top - 30:.0f} {cx + 30:.0f},{top - 30:.0f} {cx + 12:.0f},{top:.0f}"
        lx, ly = cx, top - 26
    elif dx > sx:
        x1, y1, x2, y2 = sx + sw, sy + BOX_H / 2, dx, dy + BOX_H / 2
        path = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - 5
    else:
        # a backward (or same-column) edge bends below the boxes so it does not hide them
        x1, y1 = sx + sw / 2, sy + BOX_H
        x2, y2 = dx + dw / 2, dy + BOX_H
        bottom = max(y1, y2) + ROW_GAP * 0.8
        path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{bottom:.0f} {x2:.0f},{bottom:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = (x1 + x2) / 2, bottom - 4
    return (
        f'<g class="edge"><path d="{path}" marker-end="url(#arrow)"/>'
        f'<text x="{lx:.0f}" y="{ly:.0f}">{escape(label)}</text></g>'
    )
