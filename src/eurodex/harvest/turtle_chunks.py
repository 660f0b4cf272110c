"""A large Turtle file read as a series of small documents, so memory stays bounded.

rdflib builds the whole graph in memory (about a kilobyte per triple), so a national
catalogue dumped as one Turtle file would need gigabytes. Serialisers (rdflib, Jena,
ckanext-dcat) write one subject block per statement, starting at column 0, indented
continuation lines, ending with `` .``. This splitter cuts only there, outside long
(triple-quoted) strings, and repeats every ``@prefix``/``@base`` seen so far at the head of
each chunk. Each chunk is a valid Turtle document on its own for such files; a file laid out
otherwise fails to parse chunk by chunk and is reported with the lines of the chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CHUNK_BYTES = 2 * 1024 * 1024
_DIRECTIVE = re.compile(r"\s*(@prefix|@base|prefix\s|base\s)", re.IGNORECASE)


@dataclass(frozen=True)
class TurtleChunk:
    text: str
    first_line: int
    last_line: int


def iter_turtle_chunks(path: Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES
                       ) -> Iterator[TurtleChunk]:
    """Turtle documents of about ``chunk_bytes`` each, cut between statements."""
    header: list[str] = []
    body: list[str] = []
    size = 0
    first = 1
    in_long = False
    statement_ended = True
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            at_boundary = (not in_long and statement_ended and line[:1] not in " \t")
            if at_boundary and _DIRECTIVE.match(line):
                header.append(line)
                continue
            if at_boundary and size >= chunk_bytes and line.strip():
                yield TurtleChunk("".join(header + body), first, number - 1)
                body, size, first = [], 0, number
            body.append(line)
            size += len(line)
            quotes = line.count('"""') + line.count("'''")
            if quotes % 2:
                in_long = not in_long
            stripped = line.rstrip()
            if stripped and not in_long and not stripped.lstrip().startswith("#"):
                statement_ended = stripped.endswith(".")
    if any(line.strip() for line in body):
        yield TurtleChunk("".join(header + body), first, number)
