"""Schema capture from OpenAPI documents (methodology section 6).

An entry page shows "Data schema (N fields)" and "Filterable via the API (M)". Both come from
the API's own OpenAPI document, read with one fixed rule so that two readers of the same
document get the same list:

1. the query and path parameters of the GET operations, in document order (path-level
   parameters, overridden by operation-level ones of the same name and location, then the
   operation's own), ``$ref``'d parameters resolved: these are *filterable* via the API;
2. then the properties of the response schemas of those operations (every status code, every
   media type), and of the schemas those reference, breadth-first: all the response schemas
   first, in document order, then the schemas their properties reference (directly, through an
   array's ``items``, a map's ``additionalProperties`` or an ``allOf``/``oneOf``/``anyOf``),
   and so on. Each field is labelled with its schema's name: the component (3.x) or definition
   (2.0) name; an inline object nested in a property is labelled ``Parent.property``; an inline
   response schema takes the operationId, or ``GET <path>`` when there is none;
3. a field name seen before is not listed again.

Types are rendered as the document spells them, with the format in parentheses (``"string
(date-time)"``); a property that refers to an object schema is ``"object"``, an array
``"array"``; a 3.1 type list drops ``"null"`` (``["string", "null"]`` -> ``"string"``); a schema
that says nothing about its type is ``"any"``. A property whose ``$ref`` is not followed (a
remote URL, a file outside the document's tree: see :mod:`eurodex.schema.refs`) is listed with
type ``"object"`` and not looked into. Circular references are cut by visiting each schema once.

Bounds: at most :data:`MAX_FIELDS` fields and :data:`MAX_STEPS` units of work (both raise
:class:`SchemaCaptureError` when exceeded: a partial list would be shown as if it were the
whole schema); schemas more than :data:`MAX_LEVELS` references away from a response, or nested
more than :data:`MAX_NESTING` compositions deep, are not looked into (a silent cut, like the
cut of a cycle).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eurodex.model import CapturedSchema, ReadOperation, SchemaField
from eurodex.schema.errors import SchemaCaptureError
from eurodex.schema.loading import MAX_DOCUMENT_BYTES, load_document
from eurodex.schema.refs import (
    Budget,
    Document,
    RefResolver,
    Target,
    Unfollowed,
    escape_token,
    is_ref,
    text_of,
)

__all__ = [
    "MAX_FIELDS",
    "MAX_LEVELS",
    "MAX_NESTING",
    "MAX_STEPS",
    "SchemaCaptureError",
    "capture_openapi",
    "capture_openapi_file",
]

#: The largest shipped spec yields 454 fields; ten thousand leaves room for honest
#: giants while keeping a crafted document from producing an unbounded list.
MAX_FIELDS = 10_000
#: Work steps (references followed, schemas and properties examined) for one capture.
MAX_STEPS = 2_000_000
#: How many references away from a response schema capture still looks for properties.
MAX_LEVELS = 64
#: How deeply compositions (allOf, items, ...) inside one schema are looked into.
MAX_NESTING = 32

FILTERABLE = "filterable"

_OPENAPI_VERSION = re.compile(r"3\.[01](\.\d+)?(-[0-9A-Za-z.-]+)?")
_COMPOSITIONS = ("allOf", "oneOf", "anyOf")


def capture_openapi(
    document: bytes | str, *, source: str, base_path: Path | None = None
) -> CapturedSchema:
    """Capture the fields of one OpenAPI 2.0 / 3.0 / 3.1 document, JSON or YAML.

    ``source`` names the document in error messages (a file name or URL). ``base_path`` is the
    directory the document was read from: relative ``$ref`` to other files are followed only
    when it is given, and only to files inside it. Raises :class:`SchemaCaptureError`, and
    nothing else, when the document cannot be captured.
    """
    root = load_document(document, source=source)
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else f"a {type(root).__name__}"
        raise SchemaCaptureError(f"{source}: not an OpenAPI document (the document is {kind})")
    spec_format, spec_version = _read_version(root, source)
    budget = Budget(source, MAX_STEPS)
    main = Document(root, source)
    resolver = RefResolver(main, source, budget, base_path)
    capture = _Capture(
        main, source, resolver, budget, swagger=spec_format == "swagger", version=spec_version
    )
    try:
        fields = capture.run()
    except RecursionError as exc:  # defensive: every walk is depth-bounded, but never leak it
        raise SchemaCaptureError(f"{source}: the document is nested too deeply") from exc
    info = root.get("info")
    title = (text_of(info.get("title")).strip() if isinstance(info, dict) else "") or None
    return CapturedSchema(
        spec_format=spec_format,
        spec_version=spec_version,
        fields=fields,
        servers=_servers(root, swagger=spec_format == "swagger"),
        title=title,
        operations=capture.operations,
    )


def capture_openapi_file(path: str | Path, *, source: str | None = None) -> CapturedSchema:
    """Capture a document on disk; its directory bounds the external files it may reference.

    Errors name the file by ``source`` (default: the file name), as for :func:`capture_openapi`;
    a file that cannot be read is reported the same way, so callers catch one exception type.
    """
    path = Path(path)
    label = source or path.name
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise SchemaCaptureError(f"{label}: larger than {MAX_DOCUMENT_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise SchemaCaptureError(f"{label}: cannot be read ({exc.strerror})") from exc
    return capture_openapi(raw, source=label, base_path=path.parent)


def _read_version(root: dict[str, Any], source: str) -> tuple[str, str]:
    """The spec format and its version string, validated.

    The loaders keep unquoted YAML/JSON numbers' source text, so ``openapi: 3.0`` reads back as
    "3.0"; anything that is not a string or number (``swagger: no``, a list) is refused.
    """
    if "openapi" in root:
        key, expected = "openapi", "3.0.x or 3.1.x"
    elif "swagger" in root:
        key, expected = "swagger", "2.0"
    else:
        raise SchemaCaptureError(
            f"{source}: not an OpenAPI document (no 'openapi' or 'swagger' key)"
        )
    raw = root[key]
    version = text_of(raw).strip() if not isinstance(raw, bool) else ""
    valid = _OPENAPI_VERSION.fullmatch(version) if key == "openapi" else version == "2.0"
    if not valid:
        shown = version if version else repr(raw)
        raise SchemaCaptureError(
            f"{source}: unsupported {key} version {shown!r} (expected {expected})"
        )
    return ("openapi" if key == "openapi" else "swagger"), version


def _servers(root: dict[str, Any], *, swagger: bool) -> list[str]:
    """Base URLs: 3.x ``servers[].url`` (variables set to their defaults), 2.0 scheme+host+path.

    Servers are informative, not fields, so malformed entries are skipped rather than refused.
    A 2.0 document without ``schemes`` is assumed to be served over https.
    """
    urls: list[str] = []
    if swagger:
        host = root.get("host")
        if not isinstance(host, str) or not host.strip():
            return urls
        base = root.get("basePath")
        base = base.strip() if isinstance(base, str) else ""
        if base == "/":
            base = ""
        schemes = root.get("schemes")
        if not isinstance(schemes, list) or not schemes:
            schemes = ["https"]
        for scheme in schemes:
            if isinstance(scheme, str) and scheme.strip():
                url = f"{scheme.strip()}://{host.strip()}{base}"
                if url not in urls:
                    urls.append(url)
        return urls
    servers = root.get("servers")
    if not isinstance(servers, list):
        return urls
    for server in servers:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url = server["url"].strip()
        variables = server.get("variables")
        if isinstance(variables, dict):
            for name, variable in variables.items():
                if isinstance(variable, dict) and "default" in variable:
                    url = url.replace("{" + text_of(name) + "}", text_of(variable["default"]))
        if url and url not in urls:
            urls.append(url)
    return urls


def _pointer(*tokens: Any) -> str:
    return "#/" + "/".join(escape_token(text_of(t)) for t in tokens)


@dataclass
class _Unit:
    """One set of properties to list, with the name of the schema that owns them."""

    doc: Document
    properties: dict[Any, Any]
    label: str


@dataclass
class _GetOperation:
    doc: Document
    operation: dict[str, Any]
    label: str
    where: str


class _Capture:
    """The state of one capture: fields so far, names seen, schemas visited."""

    def __init__(
        self,
        main: Document,
        source: str,
        resolver: RefResolver,
        budget: Budget,
        *,
        swagger: bool,
        version: str,
    ) -> None:
        self.version = version
        self.main = main
        self.source = source
        self.resolver = resolver
        self.budget = budget
        self.swagger = swagger
        self.fields: list[SchemaField] = []
        self.operations: list[ReadOperation] = []
        self.seen: set[str] = set()
        self.visited: set[int] = set()  # ids of schemas whose properties are queued
        self.types: dict[int, str] = {}  # ids of schemas -> rendered type

    def fail(self, problem: str) -> SchemaCaptureError:
        return SchemaCaptureError(f"{self.source}: {problem}")

    def add(self, name: str, type_: str, description: str, owner: str) -> None:
        if name in self.seen:
            return
        if len(self.fields) >= MAX_FIELDS:
            raise self.fail(f"more than {MAX_FIELDS} fields; refusing to capture")
        self.seen.add(name)
        self.fields.append(SchemaField(name, type_, description, owner))

    def run(self) -> list[SchemaField]:
        """Rule 1 while finding the GET operations, then rule 2 from their responses."""
        operations = list(self._get_operations())
        level: list[_Unit] = []
        for op in operations:
            for schema in self._response_schemas(op):
                level.extend(self._expand(schema, op.doc, op.label, 0))
        self._walk(level)
        return self.fields

    # ---- rule 1: parameters ------------------------------------------------------------------

    def _get_operations(self) -> Iterator[_GetOperation]:
        root = self.main.root
        if "paths" not in root:
            # 3.1 made paths optional (a document may hold only webhooks or components).
            if self.version.startswith("3.1") and ("webhooks" in root or "components" in root):
                return
            raise self.fail("'paths' is missing")
        paths = root["paths"]
        if not isinstance(paths, dict):
            raise self.fail(f"'paths' is not a mapping (it is {_kind(paths)})")
        for key, item in paths.items():
            path = text_of(key)
            if path.startswith("x-"):
                continue
            where = _pointer("paths", path)
            self.budget.spend()
            resolved = self.resolver.resolve(item, self.main)
            if isinstance(resolved, Unfollowed):
                continue
            item, doc = resolved.node, resolved.doc
            if item is None:
                continue
            if not isinstance(item, dict):
                raise self.fail(f"path item {where} is not a mapping (it is {_kind(item)})")
            operation = item.get("get")
            if operation is None:
                continue
            if not isinstance(operation, dict):
                raise self.fail(f"{where}/get is not a mapping (it is {_kind(operation)})")
            read = ReadOperation(path)
            for name, param, param_doc in self._parameters(item, operation, doc, where):
                if param.get("in") in ("query", "path"):
                    type_, description = self._parameter_type(param, param_doc)
                    self.add(name, type_, description, FILTERABLE)
                    _note_parameter(read, name, param)
            self.operations.append(read)
            operation_id = text_of(operation.get("operationId")).strip()
            yield _GetOperation(doc, operation, operation_id or f"GET {path}", where + "/get")

    def _parameters(
        self, item: dict[str, Any], operation: dict[str, Any], doc: Document, where: str
    ) -> list[tuple[str, dict[str, Any], Document]]:
        """Path-level then operation-level parameters; an operation's one overrides its twin."""
        merged: dict[tuple[str, str], tuple[str, dict[str, Any], Document]] = {}
        for owner, place in ((item, where), (operation, where + "/get")):
            for name, param, param_doc in self._parameter_list(owner.get("parameters"), doc, place):
                merged[(name, text_of(param.get("in")))] = (name, param, param_doc)
        return list(merged.values())

    def _parameter_list(
        self, params: Any, doc: Document, where: str
    ) -> Iterator[tuple[str, dict[str, Any], Document]]:
        if params is None:
            return
        if not isinstance(params, list):
            raise self.fail(f"{where}/parameters is not a list (it is {_kind(params)})")
        for index, param in enumerate(params):
            self.budget.spend()
            place = f"{where}/parameters/{index}"
            resolved = self.resolver.resolve(param, doc)
            if isinstance(resolved, Unfollowed):
                continue
            param = resolved.node
            if not isinstance(param, dict):
                raise self.fail(f"parameter {place} is not a mapping (it is {_kind(param)})")
            name = param.get("name")
            if isinstance(name, dict | list) or not text_of(name).strip():
                raise self.fail(f"parameter {place} has no name")
            if "in" not in param:
                raise self.fail(f"parameter {text_of(name)!r} at {place} has no 'in'")
            yield text_of(name), param, resolved.doc

    def _parameter_type(self, param: dict[str, Any], doc: Document) -> tuple[str, str]:
        """Type and description: 3.x reads ``schema`` (or ``content``), 2.0 the parameter."""
        schema: Any = param
        if "schema" in param:
            schema = param["schema"]
        elif isinstance(param.get("content"), dict):
            schema = next(
                (m.get("schema") for m in param["content"].values() if isinstance(m, dict)), None
            )
        type_ = self._type(schema, doc, 0)
        description = _description(param.get("description"))
        if not description and schema is not param:
            description = self._schema_description(schema, doc)
        return type_, description

    # ---- rule 2: response schemas, breadth-first ----------------------------------------------

    def _response_schemas(self, op: _GetOperation) -> Iterator[_Located]:
        responses = op.operation.get("responses")
        if responses is None:
            return
        where = op.where + "/responses"
        if not isinstance(responses, dict):
            raise self.fail(f"{where} is not a mapping (it is {_kind(responses)})")
        for code, response in responses.items():
            if text_of(code).startswith("x-"):
                continue
            place = f"{where}/{escape_token(text_of(code))}"
            self.budget.spend()
            resolved = self.resolver.resolve(response, op.doc)
            if isinstance(resolved, Unfollowed) or resolved.node is None:
                continue
            response = resolved.node
            if not isinstance(response, dict):
                raise self.fail(f"response {place} is not a mapping (it is {_kind(response)})")
            if self.swagger:
                if "schema" in response:
                    yield _Located(response["schema"], resolved.doc)
                continue
            content = response.get("content")
            if content is None:
                continue
            if not isinstance(content, dict):
                raise self.fail(f"{place}/content is not a mapping (it is {_kind(content)})")
            for body in content.values():
                if isinstance(body, dict) and "schema" in body:
                    yield _Located(body["schema"], resolved.doc)

    def _expand(self, schema: Any, doc: Document, label: str, depth: int) -> list[_Unit]:
        """The property sets a schema contributes, in document order; each schema only once.

        A schema's own ``properties`` and those of its compositions, array items and map values
        belong to the same level of the walk: ``allOf: [Base, {...}]`` *is* the schema.
        """
        if isinstance(schema, _Located):
            schema, doc = schema.node, schema.doc
        self.budget.spend()
        if depth > MAX_NESTING:
            return []
        resolved = self.resolver.resolve(schema, doc)
        if isinstance(resolved, Unfollowed):
            return []
        node, doc = resolved.node, resolved.doc
        if resolved.name:
            label = resolved.name
        if not isinstance(node, dict) or id(node) in self.visited:
            return []
        self.visited.add(id(node))
        units: list[_Unit] = []
        for key, value in node.items():
            if value is None:
                continue
            if key == "properties":
                if not isinstance(value, dict):
                    raise self.fail(f"'properties' of {label} is not a mapping ({_kind(value)})")
                units.append(_Unit(doc, value, label))
            elif (
                key in _COMPOSITIONS
                or key == "prefixItems"
                or (key == "items" and isinstance(value, list))
            ):
                if not isinstance(value, list):
                    raise self.fail(f"'{key}' of {label} is not a list ({_kind(value)})")
                for member in value:
                    units.extend(self._expand(member, doc, label, depth + 1))
            elif key in ("items", "additionalProperties"):
                units.extend(self._expand(value, doc, label, depth + 1))
        return units

    def _walk(self, level: list[_Unit]) -> None:
        """List the properties level by level; queue what they reference for the next level."""
        depth = 0
        while level and depth < MAX_LEVELS:
            next_level: list[_Unit] = []
            for unit in level:
                for key, prop in unit.properties.items():
                    self.budget.spend()
                    name = text_of(key)
                    if not name:
                        continue
                    self.add(
                        name,
                        self._type(prop, unit.doc, 0),
                        self._schema_description(prop, unit.doc),
                        unit.label,
                    )
                    next_level.extend(self._expand(prop, unit.doc, f"{unit.label}.{name}", 0))
            level = next_level
            depth += 1

    # ---- rendering -----------------------------------------------------------------------------

    def _type(self, schema: Any, doc: Document, depth: int) -> str:
        """The type as shown on the page: ``"string (date-time)"``, ``"object"``, ``"array"``."""
        self.budget.spend()
        if depth > MAX_NESTING:
            return "any"
        resolved = self.resolver.resolve(schema, doc)
        if isinstance(resolved, Unfollowed):
            return "object"
        node, doc = resolved.node, resolved.doc
        if not isinstance(node, dict):
            return "any"
        # Each schema is rendered once: shared schemas (and YAML aliases) would otherwise be
        # rendered once per path to them, which a crafted oneOf-of-oneOfs makes exponential.
        # The provisional "any" is what a composition that contains itself renders as.
        cached = self.types.get(id(node))
        if cached is None:
            self.types[id(node)] = "any"
            cached = self.types[id(node)] = self._render_type(node, doc, depth)
        return cached

    def _render_type(self, node: dict[str, Any], doc: Document, depth: int) -> str:
        declared = node.get("type")
        if isinstance(declared, list):
            names = [text_of(t) for t in declared if text_of(t) and text_of(t) != "null"]
            base = " | ".join(dict.fromkeys(names)) if names else ("null" if declared else "")
        else:
            base = text_of(declared).strip()
        if not base:
            base = self._implied_type(node, doc, depth)
            if base != "any" and (" " in base or "(" in base):
                return base  # rendered by a composition member, format included
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt.strip() and base != "any":
            return f"{base} ({fmt.strip()})"
        return base

    def _implied_type(self, node: dict[str, Any], doc: Document, depth: int) -> str:
        """The type of a schema that does not say it: from its shape or its compositions."""
        if "properties" in node or "additionalProperties" in node:
            return "object"
        if "items" in node or "prefixItems" in node:
            return "array"
        for key in _COMPOSITIONS:
            members = node.get(key)
            if not isinstance(members, list):
                continue
            types = [self._type(m, doc, depth + 1) for m in members]
            types = list(dict.fromkeys(t for t in types if t not in ("any", "null")))
            if key == "allOf" and types:
                return types[0]
            if types:
                return " | ".join(types)
        values = node["enum"] if isinstance(node.get("enum"), list) else []
        if "const" in node:
            values = [node["const"]]
        kinds = {_json_type(v) for v in values if v is not None}
        if len(kinds) == 1:
            return kinds.pop()
        return "any"

    def _schema_description(self, schema: Any, doc: Document) -> str:
        """The description next to the ``$ref`` if any, else the referenced schema's own."""
        if isinstance(schema, dict) and schema.get("description") is not None:
            return _description(schema["description"])
        if not is_ref(schema):
            return ""
        resolved = self.resolver.resolve(schema, doc)
        if isinstance(resolved, Target) and isinstance(resolved.node, dict):
            return _description(resolved.node.get("description"))
        return ""


@dataclass(frozen=True)
class _Located:
    """A schema node found in a document other than the one being walked (a $ref'd response)."""

    node: Any
    doc: Document


def _note_parameter(read: ReadOperation, name: str, param: dict[str, Any]) -> None:
    """Record a path or query parameter of a GET operation, for its curl example."""
    if param.get("in") == "path":
        read.path_parameters.append(name)
        return
    read.query_parameters.append(name)
    if param.get("required") is True:
        read.required_query.append(name)


def _description(value: Any) -> str:
    return text_of(value).strip()


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
