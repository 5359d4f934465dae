"""Where a `next` parameter may send the browser: a path of this site, nothing else.

Browsers are lenient with what follows `Location:`: they drop tabs and newlines anywhere, read a
backslash as a slash and `//host` as another site. So the check is made on what the browser will
read: a value with a control character, a backslash, a scheme or a host is refused outright (not
cleaned: `/%09/evil.example` cleaned would be `//evil.example`), and the accepted value is rebuilt
from its parsed path, query and fragment."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

MAX_NEXT_LENGTH = 2000
# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path of this site (`/…`, not `//…`), else None (the caller's default)."""
    if not target or not isinstance(target, str) or len(target) > MAX_NEXT_LENGTH:
        return None
    # Checked raw and once decoded: `%09`, `%5C` or `%2F%2F` must not become a tab, a backslash or `//`
    # in whatever decodes the path later.
    for value in (target, unquote(target)):
        if _UNSAFE.search(value) or "\\" in value or value.startswith("//") or not value.startswith("/"):
            return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
