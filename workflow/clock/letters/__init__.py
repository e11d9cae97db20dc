"""Numbered documents issued by escalation rungs: 提醒书, 督办通知书, 告诫书, 约谈通知, 通报.

Owns the numbering (``督办〔2026〕第0001号``: one sequence per kind per year), the printable
HTML archived in ``letter.html``, and the .docx rendered from that archived HTML on demand
(so the Word file always says exactly what was archived, even if the issue changes later).
Must not import flask or ``notifications``.

- :mod:`.numbering`: the kinds of letter and their numbers;
- :mod:`.render`: the printable HTML archived in ``letter.html``;
- :mod:`.issue`: numbering, rendering and storing letters (one, or a batch in bulk);
- :mod:`.word`: the .docx, built from the archived HTML.

Letters about a restricted issue (a problem lead) name only its number, never its title.
"""

from workflow.clock.letters.issue import (
    LETTER_TABLE,
    MAX_NUMBER_RETRIES,
    Issued,
    LetterRequest,
    issue_letter,
    issue_letters,
    letters_of,
)
from workflow.clock.letters.numbering import (
    ADMONITION_WORKING_DAYS,
    KINDS,
    LetterKind,
    LetterSettings,
    format_number,
    next_number,
    next_numbers,
    number_prefix,
)
from workflow.clock.letters.render import render_html
from workflow.clock.letters.word import blocks, to_docx

__all__ = [
    "ADMONITION_WORKING_DAYS",
    "KINDS",
    "LETTER_TABLE",
    "MAX_NUMBER_RETRIES",
    "Issued",
    "LetterKind",
    "LetterRequest",
    "LetterSettings",
    "blocks",
    "format_number",
    "issue_letter",
    "issue_letters",
    "letters_of",
    "next_number",
    "next_numbers",
    "number_prefix",
    "render_html",
    "to_docx",
]
