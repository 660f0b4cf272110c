"""``$ref`` resolution for schema capture: local pointers, same-origin files, nothing remote.

What is followed:

- local JSON pointers (``#/components/schemas/X``, ``#/definitions/X``,
  ``#/components/parameters/X``, ...), with ``~0``/``~1`` escapes and percent-encoding;
- relative references to other files (``common.yaml#/Address``, ``../shared/x.json``), but only
  when the caller gave a ``base_path`` and the file, after resolving ``..`` and symlinks, lies
  inside that directory tree. That is what "the same origin" means for a document read from
  disk: a spec may be split into several files, but it may not make us read ``/etc/passwd``.

What is not followed, and is reported as :class:`Unfollowed` so that the caller can still list
the field (typed ``"object"``) without looking inside it:

- anything with a URI scheme or a network location (``http://``, ``https://``, ``file:``,
  ``//host/x``): capture never touches the network, whatever the document asks;
- absolute file paths, files outside the tree, relative files when no ``base_path`` was given;
- plain-name fragments (``#Foo``, JSON Schema ``$anchor``), which need an index of the whole
  document that capture does not build;
- a chain of references that loops back on itself (``A: {$ref: B}``, ``B: {$ref: A}``).

A reference that points *inside* an available document but at nothing (``#/definitions/Nope``,
a missing sibling file) is a broken document and raises :class:`SchemaCaptureError`.

Every hop spends from a shared :class:`Budget`, and chains are cut after
:data:`MAX_REF_HOPS`, so a hostile document cannot make resolution loop or grow without bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from eurodex.schema.errors import SchemaCaptureError
from eurodex.schema.loading import MAX_DOCUMENT_BYTES, SourceFloat, load_document

#: Longest chain of ``$ref`` -> ``$ref`` -> ... followed before giving up on it.
MAX_REF_HOPS = 32
#: Most distinct external files one capture may open.
MAX_EXTERNAL_DOCUMENTS = 32


class Budget:
    """A count of work steps shared by one capture; exceeding it aborts the capture.

    Depth caps and visited sets already keep honest documents cheap; this is the backstop
    against documents crafted to make traversal do a lot of work (wide fan-out of references,
    YAML aliases that make one object appear under thousands of keys).
    """

    def __init__(self, source: str, limit: int) -> None:
        self.source = source
        self.limit = limit
        self.used = 0

    def spend(self, steps: int = 1) -> None:
        self.used += steps
        if self.used > self.limit:
            raise SchemaCaptureError(
                f"{self.source}: too much work to capture (more than {self.limit} steps); "
                "the document is too large or too intricate"
            )


@dataclass(eq=False)
class Document:
    """One parsed file: the main document or a same-origin file it references."""

    root: Any
    name: str  # how error messages refer to it
    path: Path | None = None  # resolved location on disk; None for the main document


@dataclass(frozen=True)
class Target:
    """Where a reference chain ended: the node, the document it lives in, and its name.

    ``name`` is the component name (``CertificateDto`` for ``#/components/schemas/CertificateDto``)
    when the chain went through a named schema, else None.
    """

    doc: Document
    node: Any
    name: str | None


@dataclass(frozen=True)
class Unfollowed:
    """A reference deliberately not followed; ``reason`` says why, for logs and tests."""

    ref: str
    reason: str


def text_of(value: Any) -> str:
    """A scalar as the text its author wrote (``no`` -> "no", ``2.0`` -> "2.0", None -> "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, SourceFloat):
        return value.source
    if isinstance(value, str | int | float):
        return str(value)
    return ""


def is_ref(node: Any) -> bool:
    return isinstance(node, dict) and "$ref" in node


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer_tokens(fragment: str) -> list[str]:
    return [unquote(t).replace("~1", "/").replace("~0", "~") for t in fragment.split("/")[1:]]


def _schema_name(tokens: list[str]) -> str | None:
    """The component name a pointer designates, if it designates one schema by name."""
    if len(tokens) == 3 and tokens[0] == "components" and tokens[1] == "schemas":
        return tokens[2]
    if len(tokens) == 2 and tokens[0] in ("definitions", "$defs"):
        return tokens[1]
    if len(tokens) == 1:  # split specs often keep a flat file of schemas: common.yaml#/Address
        return tokens[0]
    return None


def _step(node: Any, token: str) -> tuple[bool, Any]:
    if isinstance(node, dict):
        if token in node:
            return True, node[token]
        for key, value in node.items():  # YAML may have made the key an int (response codes)
            if not isinstance(key, str) and text_of(key) == token:
                return True, value
        return False, None
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return True, node[int(token)]
    return False, None


@dataclass
class RefResolver:
    """Follows ``$ref`` chains for one capture (see the module docstring for the rules)."""

    main: Document
    source: str
    budget: Budget
    base_dir: Path | None = None
    _root: Path | None = field(init=False, default=None)
    _external: dict[Path, Document] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.base_dir is not None:
            base = Path(self.base_dir)
            if base.is_file():
                base = base.parent
            self._root = base.resolve()

    def resolve(self, node: Any, doc: Document) -> Target | Unfollowed:
        """Follow ``node`` through any chain of ``$ref``; a non-reference resolves to itself."""
        name: str | None = None
        seen: set[tuple[int, str]] = set()
        hops = 0
        while is_ref(node):
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise SchemaCaptureError(
                    f"{self.source}: $ref is not a string ({type(ref).__name__}) in {doc.name}"
                )
            hops += 1
            self.budget.spend()
            if hops > MAX_REF_HOPS:
                return Unfollowed(ref, f"more than {MAX_REF_HOPS} chained references")
            target_doc = self._document_for(ref, doc)
            if isinstance(target_doc, Unfollowed):
                return target_doc
            fragment = ref.partition("#")[2]
            key = (id(target_doc), fragment)
            if key in seen:
                return Unfollowed(ref, "circular chain of references")
            seen.add(key)
            if fragment and not fragment.startswith("/"):
                return Unfollowed(ref, "plain-name fragments ($anchor) are not supported")
            tokens = _pointer_tokens(fragment) if fragment else []
            node = target_doc.root
            for token in tokens:
                found, node = _step(node, token)
                if not found:
                    where = "" if target_doc is self.main else f" in {target_doc.name}"
                    raise SchemaCaptureError(f"{self.source}: unresolvable $ref {ref!r}{where}")
            doc = target_doc
            if tokens:
                name = _schema_name(tokens) or name
            elif target_doc.path is not None:
                name = target_doc.path.stem
        return Target(doc, node, name)

    def _document_for(self, ref: str, doc: Document) -> Document | Unfollowed:
        location = ref.partition("#")[0]
        if not location:
            return doc
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            return Unfollowed(ref, "remote references are never fetched")
        relative = unquote(parts.path)
        if PurePosixPath(relative).is_absolute() or relative.startswith("\\"):
            return Unfollowed(ref, "absolute file paths are not followed")
        if self._root is None:
            return Unfollowed(ref, "no base path given, so no external file is read")
        origin = doc.path.parent if doc.path is not None else self._root
        try:
            candidate = (origin / relative).resolve()
        except (OSError, RuntimeError, ValueError):  # symlink loops, NUL bytes in the name
            return Unfollowed(ref, "the file path cannot be resolved")
        if not candidate.is_relative_to(self._root):
            return Unfollowed(ref, "the file lies outside the document's directory tree")
        cached = self._external.get(candidate)
        if cached is not None:
            return cached
        return self._load(candidate, ref)

    def _load(self, path: Path, ref: str) -> Document:
        label = path.relative_to(self._root).as_posix() if self._root else path.name
        if len(self._external) >= MAX_EXTERNAL_DOCUMENTS:
            raise SchemaCaptureError(
                f"{self.source}: references more than {MAX_EXTERNAL_DOCUMENTS} external files"
            )
        try:
            if not path.is_file():
                raise SchemaCaptureError(f"{self.source}: $ref {ref!r}: {label} not found")
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise SchemaCaptureError(
                    f"{self.source}: $ref {ref!r}: {label} is larger than {MAX_DOCUMENT_BYTES}"
                    " bytes"
                )
            raw = path.read_bytes()
        except OSError as exc:
            raise SchemaCaptureError(
                f"{self.source}: $ref {ref!r}: {label} cannot be read ({exc.strerror})"
            ) from exc
        try:
            root = load_document(raw, source=label)
        except SchemaCaptureError as exc:
            raise SchemaCaptureError(f"{self.source}: $ref {ref!r}: {exc}") from exc
        self.budget.spend()
        loaded = Document(root, label, path)
        self._external[path] = loaded
        return loaded
