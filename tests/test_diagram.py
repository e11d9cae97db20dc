"""The state diagram is well-formed SVG, complete, highlights the current state, and is inert."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from workflow.definition import load_definition, parse_definition
from workflow.definition.diagram import to_svg

DEFS = Path(__file__).parent.parent / "definitions"
SVG = "{http://www.w3.org/2000/svg}"


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_every_shipped_definition_draws_as_xml() -> None:
    """Each definition renders to parseable SVG naming every state (zh and en)."""
    for path in sorted(DEFS.glob("*.yaml")):
        d = load_definition(path)
        for lang in ("zh", "en"):
            root = ET.fromstring(to_svg(d, lang=lang))
            assert root.tag == f"{SVG}svg"
            texts = _texts(root)
            for st in d.states.values():
                assert st.label.get(lang) in texts


def test_current_state_has_class_current() -> None:
    """Only the current state's box carries the class "current"."""
    d = load_definition(DEFS / "rectification.yaml")
    root = ET.fromstring(to_svg(d, current_state="correcting"))
    current = [g for g in root.iter(f"{SVG}g") if "current" in (g.get("class") or "").split()]
    assert len(current) == 1
    assert current[0].get("data-state") == "correcting"
    assert "整改中" in _texts(current[0])
    assert not [g for g in ET.fromstring(to_svg(d)).iter(f"{SVG}g")
                if "current" in (g.get("class") or "").split()]  # fmt: skip


def test_action_labels_and_layers() -> None:
    """Arrows carry action labels; the initial state is the leftmost column."""
    d = load_definition(DEFS / "rectification.yaml")
    svg = to_svg(d)
    root = ET.fromstring(svg)
    texts = " ".join(_texts(root))
    assert "签收" in texts and "验收销号" in texts
    xs = {g.get("data-state"): float(g.find(f"{SVG}rect").get("x"))  # type: ignore[union-attr]
          for g in root.iter(f"{SVG}g") if g.get("data-state")}  # fmt: skip
    assert xs["transferred"] == min(xs.values())
    assert xs["planning"] > xs["transferred"]
    assert xs["archived"] > xs["closed"]
    assert "<script" not in svg and 'href="http' not in svg


def test_text_is_escaped() -> None:
    """A label holding markup renders as text, never as an element."""
    text = (DEFS / "common_problem.yaml").read_text(encoding="utf-8")
    text = text.replace("{zh: 待分解, en: Draft}", '{zh: "<script>alert(1)</script>&", en: Draft}')
    text = text.replace("{zh: 分解下发, en: Fan out}", '{zh: "a<b\\"c", en: Fan out}')
    svg = to_svg(parse_definition(text, "common_problem.yaml"))
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    texts = _texts(root)
    assert "<script>alert(1)</script>&" in texts
    assert any('a<b"c' in t for t in texts)
