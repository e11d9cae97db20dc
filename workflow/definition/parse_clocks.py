"""The clocks section of a definition: each clock, its ladder of rungs, its count rules."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.definition.model import (
    CLOCK_COUNTS,
    LETTERS,
    LEVELS,
    PAUSE_MODES,
    RUNG_UNITS,
    Clock,
    CountRule,
    Label,
    Rung,
)
from workflow.definition.parse_base import CLOCK_KEYS, RULE_KEYS, RUNG_KEYS, ParserBase, one_of
from workflow.definition.reader import YMap, YNode, YScalar


class ClockParser(ParserBase):
    """Reads ``clocks:``; the action names must be known first (``from`` names one)."""

    def parse_clocks(self, node: YNode) -> None:
        """Every clock: what it counts, how much, from which action, its ladder and rules."""
        m = self.r.mapping(node, "clocks")
        if m is None:
            return
        self.clocks_ok = True
        for knode, vnode in m.items:
            name = self.r.name(knode, "clock name")
            if name is None:
                continue
            what = f"clock {name}"
            cm = self.r.mapping(vnode, what)
            if cm is None:
                self.clocks[name] = Clock(name, Label(name, name), "", 0, "", "none", (), ())
                continue
            k = self.r.keys(cm, what, CLOCK_KEYS, ("label", "counts", "amount", "from"))
            label = self.label(k["label"], what) if "label" in k else None
            counts = (
                self.r.choice(k["counts"], f"{what} counts", CLOCK_COUNTS)
                if "counts" in k
                else None
            )
            amount = self.r.integer(k["amount"], f"{what} amount") if "amount" in k else None
            if amount is not None and amount <= 0:
                self.r.err(k["amount"], f"{what} amount must be greater than 0, got {amount}")
            start = self.r.name(k["from"], f"{what} from") if "from" in k else None
            if (
                start and start != "open" and self.action_names is not None
                and start not in self.action_names
            ):  # fmt: skip
                self.r.err(k["from"], f"{what} from: unknown action {start!r} (or open)")
            pause = (
                self.r.choice(k["pause"], f"{what} pause", PAUSE_MODES) if "pause" in k else "none"
            )
            ladder = self.ladder(k["ladder"], what, counts) if "ladder" in k else ()
            rules = self.count_rules(k["count_rules"], what, ladder) if "count_rules" in k else ()
            self.clocks[name] = Clock(
                name, label or Label(name, name), counts or "", amount or 0, start or "",
                pause or "none", ladder, rules,
            )  # fmt: skip

    def ladder(self, node: YNode, what: str, counts: str | None) -> tuple[Rung, ...]:
        """The rungs of a clock's escalation ladder."""
        out: list[Rung] = []
        seen: dict[str, YNode] = {}
        for item in self.r.seq(node, f"{what} ladder") or ():
            m = self.r.mapping(item, f"{what} ladder rung")
            if m is None:
                continue
            k = self.r.keys(m, f"{what} rung", RUNG_KEYS, ("rung", "at", "level", "label"))
            name = self.r.name(k["rung"], f"{what} rung name") if "rung" in k else None
            w = f"{what} rung {name or '?'}"
            if name and name in seen:
                self.r.err(k["rung"], f"{w}: duplicate rung name (first at line {seen[name].line})")
            elif name:
                seen[name] = k["rung"]
            at = self.r.integer(k["at"], f"{w} at") if "at" in k else None
            unit = counts
            if "unit" in k and isinstance(k["unit"], YScalar) and k["unit"].value == "months":
                self.r.err(
                    k["unit"],
                    f"{w}: months cannot be a rung unit (use working_days or natural_days)",
                )
                unit = None
            elif "unit" in k:
                unit = self.r.choice(k["unit"], f"{w} unit", RUNG_UNITS)
            elif counts == "months":
                self.r.err(
                    m, f"{w}: the clock counts months, which cannot be a rung unit; "
                    "give unit: working_days or natural_days",
                )  # fmt: skip
                unit = None
            level = self.r.choice(k["level"], f"{w} level", LEVELS) if "level" in k else None
            label = self.label(k["label"], w) if "label" in k else None
            notify = self.notify_list(k, m, w)
            letter = self.r.choice(k["letter"], f"{w} letter", LETTERS) if "letter" in k else None
            if name:
                out.append(Rung(name, at or 0, unit or "", level or "", label or Label(name, name),
                                notify, letter))  # fmt: skip
        return tuple(out)

    def notify_list(self, k: Mapping[str, YNode], m: YMap, what: str) -> tuple[str, ...]:
        """The required notify list of a rung or count rule."""
        if "notify" not in k:
            self.r.err(m, f"{what}: missing notify (at least one recipient)")
            return ()
        return self.recipients(k["notify"], f"{what} notify")

    def count_rules(
        self, node: YNode, what: str, ladder: tuple[Rung, ...]
    ) -> tuple[CountRule, ...]:
        """The count rules of a clock (a rung fired so many times escalates further)."""
        rungs = {r.name for r in ladder}
        out: list[CountRule] = []
        seen: set[str] = set()
        for item in self.r.seq(node, f"{what} count_rules") or ():
            m = self.r.mapping(item, f"{what} count rule")
            if m is None:
                continue
            req = ("rule", "rung", "count", "level", "label")
            k = self.r.keys(m, f"{what} count rule", RULE_KEYS, req)
            name = self.r.name(k["rule"], f"{what} count rule name") if "rule" in k else None
            w = f"{what} count rule {name or '?'}"
            if name in seen:
                self.r.err(k["rule"], f"{w}: duplicate count rule name")
            seen.add(name or "")
            rung = self.r.name(k["rung"], f"{w} rung") if "rung" in k else None
            if rung and rung not in rungs:
                self.r.err(
                    k["rung"], f"{w}: unknown rung {rung!r} (this clock has: {one_of(rungs)})"
                )
            count = self.r.integer(k["count"], f"{w} count") if "count" in k else None
            if count is not None and count < 1:
                self.r.err(k["count"], f"{w} count must be at least 1, got {count}")
            consecutive = (
                self.r.boolean(k["consecutive"], f"{w} consecutive")
                if "consecutive" in k
                else False
            )
            level = self.r.choice(k["level"], f"{w} level", LEVELS) if "level" in k else None
            label = self.label(k["label"], w) if "label" in k else None
            notify = self.notify_list(k, m, w)
            letter = self.r.choice(k["letter"], f"{w} letter", LETTERS) if "letter" in k else None
            if name:
                out.append(CountRule(name, rung or "", count or 0, bool(consecutive), level or "",
                                     label or Label(name, name), notify, letter))  # fmt: skip
        return tuple(out)
