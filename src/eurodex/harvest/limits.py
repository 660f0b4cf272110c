"""Limits on reading one harvested document, so that a hostile one costs little and ends.

Harvested files and pages are written by strangers. The parsers behind the harvesters are
fast on honest input but not on every input: rdflib's RDF/XML reader joins the text of an
element piece by piece, which takes quadratic time when the text arrives as millions of
pieces (entity references, even the predefined ``&amp;``), and Python's ``json`` recurses
once per nesting level. So, before any of them runs:

* a document larger than :data:`MAX_DOCUMENT_BYTES` is refused unread;
* JSON nested deeper than the interpreter allows is refused as such, not as a crash;
* RDF/XML is first walked by expat alone (linear time, C speed): an element whose text comes
  in more than :data:`MAX_TEXT_PIECES` pieces, or entity expansion that expat itself judges
  an amplification attack, refuses the document. Expat never fetches external entities.

Each refusal is a ``ValueError`` whose message says what was refused; harvesters turn it into
a record error naming the file or page.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.parsers import expat

# A catalogue page or file larger than this is not read (the harvest page limit is the same).
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
# Text pieces in one XML element: honest files stay in the tens; rdflib's cost grows with
# the square of this number.
MAX_TEXT_PIECES = 20_000


def read_document(path: Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of ``path``, refused (ValueError) past ``max_bytes`` before reading."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes ({size}); not read")
    return path.read_bytes()


def load_json(data: str | bytes) -> object:
    """``json.loads`` with every failure a ValueError (too deep, too large, not JSON)."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"larger than {MAX_DOCUMENT_BYTES} bytes; not read")
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ValueError("not read: JSON nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, an integer of 5,000 digits
        raise ValueError(f"not JSON: {exc}") from exc


def check_xml(data: str | bytes) -> None:
    """Walk an XML document with expat alone; ValueError when it must not reach rdflib."""
    parser = expat.ParserCreate()
    pieces = 0

    def new_element(*_args: object) -> None:
        nonlocal pieces
        pieces = 0

    def text(_data: str) -> None:
        nonlocal pieces
        pieces += 1
        if pieces > MAX_TEXT_PIECES:
            raise ValueError(f"an element's text comes in more than {MAX_TEXT_PIECES} pieces "
                             "(entity references?); not read")

    parser.StartElementHandler = new_element
    parser.EndElementHandler = new_element
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:  # malformed, or an entity-expansion attack
        raise ValueError(f"XML not read: {exc}") from exc
