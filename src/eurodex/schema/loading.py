"""Turning the bytes of a JSON or YAML document into plain Python values.

OpenAPI documents arrive as either format, often without a trustworthy file extension, so the
text is sniffed: something that starts like a JSON object or array is read as JSON first, and
anything else (or JSON that does not parse) as YAML.

YAML is read with a safe loader (the C one when PyYAML was built with libyaml: the largest
shipped spec is 1.9 MB and the pure-Python loader takes several times as long) tuned towards the
YAML 1.2 core schema that the OpenAPI specification recommends:

- only ``true``/``false`` are booleans, so a property called ``no`` or ``on`` keeps its name
  instead of becoming ``False``/``True``;
- dates stay strings (the capture has no use for ``datetime`` objects);
- floats remember the text they were written as (:class:`SourceFloat`), so that ``openapi:
  3.0`` or ``swagger: 2.0`` written unquoted, and a version like ``1.10``, can be read back
  exactly rather than as ``3.0`` -> ``"3.0"`` by luck and ``1.10`` -> ``"1.1"`` by mistake.
JSON floats get the same treatment.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from eurodex.schema.errors import SchemaCaptureError

#: Deepest nesting of YAML collections accepted. Real specs stay under 30 levels; libyaml's
#: composer recurses on the C stack and crashes the interpreter (a segmentation fault, not an
#: exception) somewhere past ten thousand levels, so depth is measured before composing.
MAX_YAML_DEPTH = 256

#: Larger documents are refused before parsing: the biggest real spec we ship is 1.9 MB, and a
#: parser given hundreds of megabytes can exhaust memory long before any other limit applies.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


class SourceFloat(float):
    """A float that also keeps the characters it was written with (``"3.10"``, ``"2.0"``)."""

    source: str

    def __new__(cls, value: float, source: str) -> SourceFloat:
        self = super().__new__(cls, value)
        self.source = source
        return self


_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _OpenAPILoader(_SafeBase):  # type: ignore[misc, valid-type]
    """Safe loader with YAML 1.2 booleans, string dates and source-preserving floats."""


_OpenAPILoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in _SafeBase.yaml_implicit_resolvers.items()
}
_OpenAPILoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_float(loader: yaml.constructor.SafeConstructor, node: yaml.Node) -> SourceFloat:
    value = yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)
    return SourceFloat(value, str(node.value))


def _construct_bool(loader: yaml.constructor.SafeConstructor, node: yaml.Node) -> bool:
    # An explicit ``!!bool yes`` still goes through here; only the six spellings are booleans.
    return str(node.value).lower() == "true"


_OpenAPILoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_OpenAPILoader.add_constructor(_BOOL_TAG, _construct_bool)


def _json_float(text: str) -> SourceFloat:
    return SourceFloat(float(text), text)


def decode(document: bytes | str, *, source: str) -> str:
    """The document as text: UTF-8 (a byte-order mark is tolerated), within the size cap."""
    if isinstance(document, str):
        if len(document) > MAX_DOCUMENT_BYTES:
            raise SchemaCaptureError(f"{source}: larger than {MAX_DOCUMENT_BYTES} bytes")
        return document
    if not isinstance(document, bytes | bytearray):
        raise SchemaCaptureError(f"{source}: expected bytes or str, got {type(document).__name__}")
    if len(document) > MAX_DOCUMENT_BYTES:
        raise SchemaCaptureError(f"{source}: larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return bytes(document).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaCaptureError(f"{source}: not UTF-8 (byte {exc.start})") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0] or type(exc).__name__
    return f"invalid YAML{where}: {problem}"


_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_yaml_depth(text: str, source: str) -> None:
    """Refuse YAML nested deeper than MAX_YAML_DEPTH, reading only the event stream.

    libyaml's parser is a state machine with its own stack, so walking its events is safe at
    any depth where composing the same text is not; it costs about a third of a full load.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_OpenAPILoader):
        if isinstance(event, _OPENING):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise SchemaCaptureError(
                    f"{source}: invalid YAML: nested too deeply (more than {MAX_YAML_DEPTH} levels)"
                )
        elif isinstance(event, _CLOSING):
            depth -= 1


def load_document(document: bytes | str, *, source: str) -> Any:
    """Parse JSON or YAML into dicts, lists and scalars; any failure is a SchemaCaptureError.

    The parsers are third-party code with open-ended failure modes (``ValueError`` from a
    ``!!float nope`` tag, ``RecursionError`` from thousands of nested brackets, ...), so all
    of them are caught here and reported with the source's name.
    """
    text = decode(document, source=source)
    stripped = text.lstrip()
    if not stripped:
        raise SchemaCaptureError(f"{source}: empty document")
    json_problem: str | None = None
    if stripped[0] in "{[":
        try:
            return json.loads(text, parse_float=_json_float)
        except RecursionError as exc:
            raise SchemaCaptureError(f"{source}: invalid JSON: nested too deeply") from exc
        except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
            json_problem = f"invalid JSON: {exc}"
    try:
        _check_yaml_depth(text, source)
        return yaml.load(text, Loader=_OpenAPILoader)  # noqa: S506 - a SafeLoader subclass
    except SchemaCaptureError:
        raise
    except yaml.YAMLError as exc:
        problem = json_problem or _yaml_problem(exc)
        raise SchemaCaptureError(f"{source}: {problem}") from exc
    except RecursionError as exc:
        raise SchemaCaptureError(f"{source}: invalid YAML: nested too deeply") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        problem = json_problem or f"invalid YAML: {exc}"
        raise SchemaCaptureError(f"{source}: {problem}") from exc
