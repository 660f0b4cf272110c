"""First requests a reader can paste: curl commands built from the captured GET operations.

One command per GET operation of the captured spec (the first :data:`MAX_EXAMPLES`), against
the entry's base URL, with path parameters as ``<name>`` placeholders and the query
parameters the operation accepts (required ones first). Without captured operations, one
command against the base URL with the schema's filterable fields as query parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from eurodex.store.tables import CapturedSchemaRow, Entry

MAX_EXAMPLES = 5
#: Optional query parameters shown per example, on top of the required ones.
MAX_OPTIONAL = 3


@dataclass(frozen=True)
class CurlExample:
    label: str
    command: str


@dataclass(frozen=True)
class CurlExamples:
    examples: list[CurlExample]
    more: int  # GET operations not shown


def _query(names: list[str]) -> str:
    return "&".join(f"{name}=<{name}>" for name in names)


def _command(url: str) -> str:
    return f'curl -sS "{url}"'


def curl_examples(entry: Entry, schema: CapturedSchemaRow | None) -> CurlExamples:
    if not entry.base_url:
        return CurlExamples([], 0)
    base = entry.base_url.rstrip("/")
    operations = (schema.operations or []) if schema and not schema.error else []
    if not operations:
        filters = [f["name"] for f in (schema.fields if schema else [])
                   if f["owner"] == "filterable"][:MAX_OPTIONAL]
        url = f"{base}?{_query(filters)}" if filters else base
        return CurlExamples([CurlExample(f"GET {base}", _command(url))], 0)
    examples = []
    for op in operations[:MAX_EXAMPLES]:
        path = op["path"]
        for name in op.get("path_parameters", []):
            path = path.replace("{" + name + "}", f"<{name}>")
        required = list(op.get("required_query", []))
        optional = [n for n in op.get("query_parameters", []) if n not in required]
        names = required + optional[:MAX_OPTIONAL]
        url = base + (path if path.startswith("/") else "/" + path)
        if names:
            url += "?" + _query(names)
        examples.append(CurlExample(f"GET {op['path']}", _command(url)))
    return CurlExamples(examples, max(0, len(operations) - MAX_EXAMPLES))
