"""Cell values of an import: the unit and round lookups, text, dates, titles and row identity."""

from __future__ import annotations

import calendar as _calendar
import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl.utils.datetime import from_excel
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definition.model import DEADLINE_LABELS
from workflow.limits import text_limit
from workflow.messages import N_, Text
from workflow.models import Issue, Round, Unit, User
from workflow.service.fields import parse_date

DEADLINE_NAMES = {
    **{zh: key for key, zh in DEADLINE_LABELS.items()},
    "fixnow": "fix_now", "bydeadline": "by_deadline", "ongoing": "ongoing",
}  # fmt: skip
# no text longer than the issue's column it goes to (widths read from the schema)
MAX_LEN = {
    name: text_limit(getattr(Issue, name))
    for name in ("title", "description", "category", "supervising_leader", "person_in_charge",
                 "source", "number")
}  # fmt: skip
SENTENCE_END = re.compile(r"[。！？；;!?\n]")

# a cell's problem before the row check puts it in place: a text and its parameters
Problem = tuple[Text, dict[str, Any]]

UNIT_AMBIGUOUS = Text(
    "import_unit_ambiguous",
    N_("%(label)s: %(n)s units are named '%(name)s' (%(codes)s): write the unit code"),
)
UNIT_UNKNOWN = Text("import_unit_unknown", N_("%(label)s: no unit named '%(name)s'"))
UNIT_UNKNOWN_CLOSE = Text(
    "import_unit_unknown_close",
    N_("%(label)s: no unit named '%(name)s'; did you mean %(close)s?"),
)
NOT_A_DATE_NUMBER = Text("import_not_a_date_number", N_("%(value)s is not a date"))
NOT_A_DATE = Text(
    "import_not_a_date", N_("'%(value)s' is not a date (write 2026-12-31 or 2026年12月31日)")
)


@dataclass
class Lookup:
    """The unit tree, rounds and the importer's reach, held for one import."""

    by_code: dict[str, Unit]
    by_name: dict[str, list[Unit]]
    rounds: dict[str, Round]
    reach: list[str]  # paths of the importer's office posts
    today: date
    allow_past: bool = False

    @classmethod
    def load(cls, session: Session, user: User, today: date, allow_past: bool = False) -> Lookup:
        """Read units and rounds once."""
        by_code: dict[str, Unit] = {}
        by_name: dict[str, list[Unit]] = {}
        for u in session.scalars(select(Unit)):
            by_code[u.code] = u
            by_name.setdefault(norm_text(u.name), []).append(u)
        rounds: dict[str, Round] = {}
        for r in session.scalars(select(Round)):
            rounds[r.code] = r
            rounds.setdefault(norm_text(r.name), r)
        reach = [m.unit.path for m in user.memberships if m.role == "office"]
        return cls(by_code, by_name, rounds, reach, today, allow_past)

    def unit(self, text: str) -> tuple[Unit | None, Problem | None]:
        """A unit named by code or name, or the problem (with suggestions) for the row check."""
        text = text.strip()
        if text in self.by_code:
            return self.by_code[text], None
        found = self.by_name.get(norm_text(text), [])
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            codes = ", ".join(sorted(u.code for u in found)[:5])
            return None, (UNIT_AMBIGUOUS, {"n": len(found), "name": text, "codes": codes})
        close = difflib.get_close_matches(norm_text(text), list(self.by_name), n=3, cutoff=0.6)
        if close:
            return None, (UNIT_UNKNOWN_CLOSE, {"name": text, "close": " / ".join(close)})
        return None, (UNIT_UNKNOWN, {"name": text})

    def in_reach(self, unit: Unit) -> bool:
        """Whether the importer's office covers ``unit``."""
        return any(unit.path.startswith(p) for p in self.reach)


def norm_text(text: str) -> str:
    """Text as compared: NFKC, no white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without .0, midnight datetimes as dates, stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


MONTH_END = re.compile(r"^(\d{4})\s*[年./-]\s*(\d{1,2})\s*月?\s*(底|末)?$")


def parse_cell_date(value: Any) -> date:
    """A due date from a date cell, an Excel serial number or text (2026年12月31日, 2026年12月底 …)."""
    if isinstance(value, datetime | date):
        return parse_date(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # 1954..2119 as Excel serial days
            return from_excel(value).date()  # type: ignore[union-attr]
        raise ValueError(NOT_A_DATE_NUMBER(value=repr(value)))
    text = cell_text(value).replace(" ", "")
    m = MONTH_END.match(text)
    if m:
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return date(year, month, _calendar.monthrange(year, month)[1])
    try:
        return parse_date(text.rstrip("前"))
    except ValueError:
        raise ValueError(NOT_A_DATE(value=text)) from None


def derive_title(description: str) -> str:
    """A title from the description's first sentence (at most 80 characters)."""
    first = SENTENCE_END.split(description.strip(), maxsplit=1)[0].strip()
    return first if len(first) <= 80 else first[:79] + "…"


def import_key(number: str | None, round_code: str | None, unit_code: str, description: str) -> str:
    """The identity of an imported row (see the module docstring)."""
    if number:
        raw = f"number\x1f{number.strip()}"
    else:
        raw = "\x1f".join(("row", round_code or "", unit_code, norm_text(description)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
