"""URLs with their secrets taken out (user, password, query, fragment), for messages, identities and records.

Shared by every step: acquire quotes sources in its messages, and the run folder's summary.json quotes the
parameters, where a signed link's token must not outlive the download.
"""

import re
from urllib.parse import urlsplit, urlunsplit

_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact(url: str) -> str:
    """The URL without user, password, query or fragment, for messages and identities: signed URLs carry secrets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact_urls(text: str) -> str:
    """`text` with every URL in it redacted: for whole records (summary.json) that may quote a source."""
    return _ANY_URL.sub(lambda found: redact(found.group(0)), text)
