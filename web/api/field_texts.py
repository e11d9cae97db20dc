"""marshmallow's validation messages in the request's language.

marshmallow formats its English messages before we see them ("Length must be between 1
and 300."), so each known shape is matched here, its parameters taken back out, and the
catalogue's text for that shape filled in.  Anything else is looked up as a message id.
"""

from __future__ import annotations

import re

from web.locale import catalogue as catalogue_of
from web.locale import lang, say
from workflow.messages import N_

_NUMBER = r"-?[0-9.e+]+"
# (the English marshmallow says, as a pattern) → the catalogue's message id
SHAPES: list[tuple[str, str]] = [
    (r"Missing data for required field\.", N_("Required.")),
    (r"Field may not be null\.", N_("May not be empty.")),
    (r"Unknown field\.", N_("Unknown field.")),
    (r"Invalid type\.", N_("Invalid type.")),
    (r"Invalid input\.", N_("Invalid input.")),
    (r"Invalid value\.", N_("Invalid value.")),
    (r"Not a valid integer\.", N_("Not a whole number.")),
    (r"Not a valid number\.", N_("Not a number.")),
    (r"Number too large\.", N_("The number is too large.")),
    (r"Not a valid string\.", N_("Text is expected.")),
    (r"Not a valid boolean\.", N_("Not a valid yes/no value.")),
    (r"Not a valid date\.", N_("Not a valid date (YYYY-MM-DD).")),
    (r"Not a valid datetime\.", N_("Not a valid date and time (ISO 8601).")),
    (r"Not a valid list\.", N_("A list is expected.")),
    (r"Not a valid mapping type\.", N_("An object is expected.")),
    (r"String does not match expected pattern\.", N_("Not in the expected format.")),
    (rf"Length must be between (?P<min>{_NUMBER}) and (?P<max>{_NUMBER})\.",
     N_("Length must be between %(min)s and %(max)s.")),
    (rf"Shorter than minimum length (?P<min>{_NUMBER})\.", N_("At least %(min)s long.")),
    (rf"Longer than maximum length (?P<max>{_NUMBER})\.", N_("At most %(max)s long.")),
    (rf"Must be greater than or equal to (?P<min>{_NUMBER}) and less than or equal to "
     rf"(?P<max>{_NUMBER})\.", N_("Must be between %(min)s and %(max)s.")),
    (rf"Must be greater than or equal to (?P<min>{_NUMBER})\.", N_("Must be at least %(min)s.")),
    (rf"Must be less than or equal to (?P<max>{_NUMBER})\.", N_("Must be at most %(max)s.")),
    (r"Must be one of: (?P<choices>.*)\.", N_("Must be one of: %(choices)s.")),
]  # fmt: skip
_COMPILED = [(re.compile(pattern), template) for pattern, template in SHAPES]


def field_text(text: object) -> str:
    """One validation message in the request's language."""
    if isinstance(text, str) and type(text) is str:
        for pattern, template in _COMPILED:
            found = pattern.fullmatch(text)
            if found:
                return catalogue_of(lang()).gettext(template) % found.groupdict()
    return say(text)
