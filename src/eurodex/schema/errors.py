"""The one exception schema capture raises.

Capture reads documents written by strangers, so every way a document can be wrong (bad JSON or
YAML, the wrong shape, a broken ``$ref``, a hostile size) ends up as this single type. Callers
that harvest many specs catch it, record the message on the entry and move on.
"""

from __future__ import annotations


class SchemaCaptureError(ValueError):
    """A document whose schema cannot be captured.

    The message always starts with the source it came from (``"api-foo.json: ..."``), so that a
    log line or an entry page names the file without the caller having to add it.
    """
