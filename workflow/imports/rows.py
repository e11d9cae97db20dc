"""Checking one row of a 问题清单: each column in turn, a located Message for every bad cell."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl.utils import get_column_letter

from workflow.imports.cells import (
    DEADLINE_NAMES,
    MAX_LEN,
    NOT_A_DATE_NUMBER,
    Lookup,
    cell_text,
    derive_title,
    import_key,
    norm_text,
    parse_cell_date,
)
from workflow.imports.report import Message, located
from workflow.imports.sheet import LABELS, Formula, Sheet, blank, norm_header
from workflow.limits import DATE_MAX, DATE_MIN
from workflow.messages import N_, Text
from workflow.models import Round, Unit

# every row problem starts with the column's name (%(label)s, as the sheet's header says it)
FORMULA = Text(
    "import_formula",
    N_("%(label)s: the cell holds a formula (%(formula)s); paste values instead"),
)
TOO_LONG = Text("import_too_long", N_("%(label)s: %(length)s characters long; at most %(limit)s"))
NO_DESCRIPTION = Text(
    "import_no_description",
    N_("%(label)s: empty: every row needs 问题表现 (description) or 问题标题 (title)"),
)
UNIT_CODE_UNKNOWN = Text("import_unit_code_unknown", N_("%(label)s: no unit with code '%(code)s'"))
UNIT_MISMATCH = Text(
    "import_unit_mismatch",
    N_("%(label)s: '%(name)s' is not unit %(code)s (%(unit)s): correct the name or the code"),
)
UNIT_EMPTY = Text("import_unit_empty", N_("%(label)s: empty: name the responsible unit (牵头单位)"))
UNIT_OUT_OF_REACH = Text(
    "import_unit_out_of_reach", N_("%(label)s: %(unit)s is outside your office's units")
)
ROUND_UNKNOWN = Text("import_round_unknown", N_("%(label)s: no round '%(round)s'"))
ROUND_UNKNOWN_CLOSE = Text(
    "import_round_unknown_close", N_("%(label)s: no round '%(round)s'; did you mean %(close)s?")
)
DEADLINE_TYPE_BAD = Text(
    "import_deadline_type_bad",
    N_("%(label)s: '%(value)s' is not 立行立改, 限期整改 or 长期坚持"),
)
DUE_NOT_A_DATE_NUMBER = Text(
    "import_due_not_a_date_number", N_("%(label)s: %(value)s is not a date")
)
DUE_NOT_A_DATE = Text(
    "import_due_not_a_date",
    N_("%(label)s: '%(value)s' is not a date (write 2026-12-31 or 2026年12月31日)"),
)
DUE_PAST = Text("import_due_past", N_("%(label)s: %(due)s is in the past"))
DUE_OUT_OF_RANGE = Text(
    "import_due_out_of_range",
    N_("%(label)s: %(due)s is not accepted (a due date lies between %(min)s and %(max)s)"),
)
DUE_EMPTY = Text(
    "import_due_empty", N_("%(label)s: empty: give a due date, or 整改类型 立行立改 / 长期坚持")
)
DUE_NEEDED = Text("import_due_needed", N_("%(label)s: 限期整改 needs a due date"))


@dataclass
class Row:
    """A checked row: the fields for open_issue, or its problems."""

    sheet: str
    n: int
    fields: dict[str, Any]
    problems: list[Message]
    status: str = "valid"


class _RowCheck:
    """The checks of one row, column by column; each bad cell adds a located Message."""

    def __init__(
        self, sheet: Sheet, n: int, raw: dict[str, Any], problems: list[Message], look: Lookup
    ) -> None:
        """Hold the row; formulas are refused and cleared first, then the cells read as text."""
        self.sheet, self.n, self.raw, self.problems, self.look = sheet, n, raw, problems, look
        self.col = {f: get_column_letter(c) for f, c in sheet.columns.items()}
        for name, value in raw.items():
            if isinstance(value, Formula):
                self.bad(name, FORMULA, formula=value.text[:40])
                raw[name] = None
        self.text = {k: cell_text(v) for k, v in raw.items() if k != "due_on"}

    def bad(self, field: str, text: Text, /, **params: Any) -> None:
        """Record a problem in column ``field`` (the column's label leads the sentence)."""
        self.problems.append(located(self.sheet.name, self.n, self.col.get(field), text,
                                     label=LABELS.get(field, field), **params))  # fmt: skip

    def lengths(self) -> None:
        """No text longer than its database column."""
        for name, limit in MAX_LEN.items():
            if len(self.text.get(name, "")) > limit:
                self.bad(name, TOO_LONG, length=len(self.text[name]), limit=limit)

    def lookup_unit(self, name: str, text: str) -> Unit | None:
        """The unit ``text`` names, or None with the lookup's problem in column ``name``."""
        unit, err = self.look.unit(text)
        if err:
            self.bad(name, err[0], **err[1])
        return unit

    def unit(self) -> Unit | None:
        """The responsible unit, by code or name, inside the importer's office."""
        unit = None
        if self.text.get("unit_code"):
            unit = self.look.by_code.get(self.text["unit_code"])
            if unit is None:
                self.bad("unit_code", UNIT_CODE_UNKNOWN, code=self.text["unit_code"])
            elif self.text.get("unit"):  # both given: they must name the same unit
                named, _problem = self.look.unit(self.text["unit"])
                if named is None or named.id != unit.id:
                    self.bad("unit", UNIT_MISMATCH, code=unit.code, unit=unit.name,
                             name=self.text["unit"])  # fmt: skip
                    unit = None
        elif self.text.get("unit"):
            unit = self.lookup_unit("unit", self.text["unit"])
        else:
            self.bad("unit", UNIT_EMPTY)
        if unit is not None and not self.look.in_reach(unit):
            self.bad("unit" if "unit" in self.col else "unit_code", UNIT_OUT_OF_REACH,
                     unit=unit.name)  # fmt: skip
        return unit

    def supporting(self, unit: Unit | None) -> list[str]:
        """The codes of the supporting units (the responsible unit itself left out)."""
        out = []
        for part in re.split(r"[、,，;；\n]+", self.text.get("supporting_units", "")):
            if part.strip():
                u = self.lookup_unit("supporting_units", part)
                if u is not None and (unit is None or u.id != unit.id):
                    out.append(u.code)
        return out

    def round(self) -> Round | None:
        """The round, by code or name, with suggestions when unknown."""
        given = self.text.get("round")
        if not given:
            return None
        found = self.look.rounds.get(given) or self.look.rounds.get(norm_text(given))
        if found is None:
            close = difflib.get_close_matches(norm_text(given), list(self.look.rounds), n=2)
            if close:
                self.bad("round", ROUND_UNKNOWN_CLOSE, round=given, close=" / ".join(close))
            else:
                self.bad("round", ROUND_UNKNOWN, round=given)
        return found

    def due(self) -> tuple[str, date | None]:
        """The deadline type and due date (长期坚持 may stand in the due-date column)."""
        dtype = None
        if self.text.get("deadline_type"):
            dtype = DEADLINE_NAMES.get(norm_header(self.text["deadline_type"]))
            if dtype is None:
                self.bad("deadline_type", DEADLINE_TYPE_BAD, value=self.text["deadline_type"])
        due = None
        raw_due = self.raw.get("due_on")
        if not blank(raw_due):
            as_type = DEADLINE_NAMES.get(norm_header(cell_text(raw_due)))
            if as_type and isinstance(raw_due, str):
                dtype = dtype or as_type  # "长期坚持" written in the due-date column
            else:
                due = self.due_date(raw_due)
        due_said = any(p.column == self.col.get("due_on") for p in self.problems)
        if dtype is None and due is None and not due_said:
            self.bad("due_on", DUE_EMPTY)
        dtype = dtype or "by_deadline"
        due_said = any(p.column == self.col.get("due_on") for p in self.problems)
        if dtype == "by_deadline" and due is None and not due_said:
            self.bad("due_on", DUE_NEEDED)
        return dtype, due

    def due_date(self, raw_due: Any) -> date | None:
        """A due date from the cell, not in the past (unless the import allows it)."""
        try:
            due = parse_cell_date(raw_due)
        except ValueError as exc:
            said = exc.args[0] if exc.args else None
            params = getattr(said, "params", {})
            number = getattr(said, "code", None) == NOT_A_DATE_NUMBER.code
            self.bad("due_on", DUE_NOT_A_DATE_NUMBER if number else DUE_NOT_A_DATE,
                     value=params.get("value", cell_text(raw_due)))  # fmt: skip
            return None
        if not DATE_MIN <= due <= DATE_MAX:
            self.bad("due_on", DUE_OUT_OF_RANGE, due=due.isoformat(), min=DATE_MIN.isoformat(),
                     max=DATE_MAX.isoformat())  # fmt: skip
            return None
        if due < self.look.today and not self.look.allow_past:
            self.bad("due_on", DUE_PAST, due=due.isoformat())
        return due


def check_row(
    sheet: Sheet, n: int, raw: dict[str, Any], problems: list[Message], look: Lookup
) -> Row:
    """Turn one row into open_issue fields, recording a message for every bad cell."""
    c = _RowCheck(sheet, n, raw, problems, look)
    text = c.text
    c.lengths()
    description = text.get("description", "")
    title = text.get("title", "") or derive_title(description)
    if not description and not title:
        c.bad("description", NO_DESCRIPTION)
    unit = c.unit()
    supporting = c.supporting(unit)
    inspected = c.lookup_unit("inspected_unit", text["inspected_unit"]) \
        if text.get("inspected_unit") else None  # fmt: skip
    round_ = c.round()
    dtype, due = c.due()
    fields: dict[str, Any] = {
        "title": title[: MAX_LEN["title"]],
        "description": description,
        "category": text.get("category") or None,
        "unit": unit.code if unit else None,
        "supporting_units": supporting,
        "deadline_type": dtype,
        "due_on": due,
        "supervising_leader": text.get("supervising_leader") or None,
        "person_in_charge": text.get("person_in_charge") or None,
        "source": text.get("source") or None,
        "number": text.get("number") or None,
    }
    if round_ is not None:
        fields["round"] = round_.code
    if inspected is not None:
        fields["inspected_unit"] = inspected.code
    if unit is not None:
        fields["import_key"] = import_key(
            fields["number"], round_.code if round_ else None, unit.code, description or title
        )
    return Row(sheet.name, n, fields, problems, "invalid" if problems else "valid")
