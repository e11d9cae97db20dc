"""The one check of where the app may send a browser back to: a path on this site, nothing else.

Used by the login (``?next=``) and the language switch (``next``).  Browsers read ``\\`` as
``/`` and drop tabs and line breaks inside a URL, so ``/\\evil.com`` and ``/\\t/evil.com``
would leave the site: any backslash, control character or space is refused outright.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_UNSAFE = re.compile(r"[\\\x00-\x20\x7f]")


def safe_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site (``/…``, not ``//…``), else ``default``."""
    if not target or _UNSAFE.search(target) or not target.startswith("/"):
        return default
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return default
    return target
