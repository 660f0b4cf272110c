"""The operator's curation file: institutions, extra official domains, trusted sources and a
blocklist, in YAML (path from ``EURODEX_CURATION_FILE``).

Example::

    institutions:
      - slug: example-agency
        name: Example Agency
        acronym: EXA
        country: FR
        type: AGENCY
        homepage: https://www.example-agency.gouv.fr
        domains: [example-agency.gouv.fr]
        github_orgs: [example-agency]
    official_domains: [example-city.fr]
    trusted_sources: [api-gouv-fr]
    blocklist: [spam.example, bad-host.example.org]

Every value is read as text (so ``no`` stays ``no`` and ``1.10`` stays ``1.10``), and any
problem raises :class:`CurationError` naming the file and the line, before anything is used:
a half-read curation file would silently change admissions.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from eurodex.model import InstitutionType
from eurodex.proof.domains import PUBLIC_SECTOR_SUFFIXES, host_of, is_public_suffix, parents
from eurodex.proof.reference import ReferenceInstitution, is_host_name

CURATION_LABEL = "the operator's curation file"
SUBMISSIONS_SOURCE = "submissions"
_TOP_KEYS = ("institutions", "official_domains", "trusted_sources", "blocklist")
_INSTITUTION_KEYS = ("slug", "name", "acronym", "country", "type", "homepage", "domains",
                     "github_orgs")


class CurationError(ValueError):
    """The curation file cannot be used; the message names the file and the line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Curation:
    """What the operator decided. An empty Curation changes nothing."""

    path: str | None = None
    institutions: tuple[ReferenceInstitution, ...] = ()
    official_domains: tuple[str, ...] = ()
    trusted_sources: frozenset[str] = frozenset()
    blocklist: tuple[str, ...] = ()

    def is_trusted(self, source_slug: str) -> bool:
        return source_slug in self.trusted_sources

    def blocked(self, host: str | None) -> str | None:
        """The blocklist row ``host`` equals or lies under (dot boundary), or None."""
        if not host:
            return None
        rows = set(self.blocklist)
        return next((p for p in parents(host) if p in rows), None)

    def domain_labels(self) -> dict[str, str]:
        """Extra official domains for the registry: the list and each institution's own."""
        labels = {d: CURATION_LABEL for d in self.official_domains}
        for inst in self.institutions:
            for domain in inst.domains:
                labels.setdefault(domain, f"{CURATION_LABEL} ({inst.acronym or inst.name})")
        return labels


class _Reader:
    """Walks the composed YAML tree, so every complaint can name its line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, message: str) -> CurationError:
        return CurationError(self.path, node.start_mark.line + 1 if node else None, message)

    def mapping(self, node: yaml.Node, what: str, keys: tuple[str, ...]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        found: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = self.text(key_node, f"a key of {what}")
            if key not in keys:
                raise self.fail(key_node, f"unknown key {key!r} in {what} "
                                          f"(expected one of: {', '.join(keys)})")
            if key in found:
                raise self.fail(key_node, f"{key!r} appears twice in {what}")
            found[key] = value
        return found

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a single value, not a list or mapping")
        value = str(node.value).strip()
        if not value:
            raise self.fail(node, f"{what} is empty")
        return value

    def domain(self, node: yaml.Node, what: str) -> str:
        value = self.text(node, what).lower().rstrip(".")
        if "://" in value:
            value = host_of(value) or value
        if not is_host_name(value):
            raise self.fail(node, f"{what} {value!r} is not a domain name")
        if value not in PUBLIC_SECTOR_SUFFIXES and is_public_suffix(value):
            raise self.fail(node, f"{what} {value!r} is a public suffix: anyone can register "
                                  "names under it, so it cannot vouch for them")
        return value


def _institution(reader: _Reader, node: yaml.Node, index: int) -> ReferenceInstitution:
    what = f"institution #{index + 1}"
    fields = reader.mapping(node, what, _INSTITUTION_KEYS)
    for required in ("slug", "name", "country", "type"):
        if required not in fields:
            raise reader.fail(node, f"{what} has no {required!r}")
    slug = reader.text(fields["slug"], f"{what} slug")
    if not all(c.isascii() and (c.isalnum() or c == "-") for c in slug) or slug != slug.lower():
        raise reader.fail(fields["slug"], f"{what} slug {slug!r} must be lower-case letters, "
                                          "digits and hyphens")
    country = reader.text(fields["country"], f"{what} country").upper()
    if not (len(country) == 2 and country.isalpha()):
        raise reader.fail(fields["country"], f"{what} country {country!r} is not an ISO "
                                             "3166-1 alpha-2 code (or EU)")
    type_ = reader.text(fields["type"], f"{what} type").upper()
    if type_ not in InstitutionType.__members__:
        raise reader.fail(fields["type"], f"{what} type {type_!r} is not one of "
                                          f"{', '.join(InstitutionType.__members__)}")
    homepage = None
    if "homepage" in fields:
        homepage = reader.text(fields["homepage"], f"{what} homepage")
        if not homepage.startswith(("https://", "http://")) or not host_of(homepage):
            raise reader.fail(fields["homepage"], f"{what} homepage {homepage!r} is not an "
                                                  "http(s) URL")
    domains = tuple(reader.domain(n, f"{what} domain")
                    for n in reader.sequence(fields.get("domains", _empty()), f"{what} domains"))
    orgs = tuple(reader.text(n, f"{what} GitHub organisation").lower()
                 for n in reader.sequence(fields.get("github_orgs", _empty()),
                                          f"{what} github_orgs"))
    acronym = reader.text(fields["acronym"], f"{what} acronym") if "acronym" in fields else None
    return ReferenceInstitution(
        slug=slug, name=reader.text(fields["name"], f"{what} name"), country=country,
        type=type_, acronym=acronym, homepage_url=homepage, domains=domains, github_orgs=orgs,
        listed_in=CURATION_LABEL,
    )


def _empty() -> yaml.Node:
    return yaml.SequenceNode(tag="tag:yaml.org,2002:seq", value=[])


def parse_curation(text: str, path: str) -> Curation:
    """Read curation YAML ``text``; ``path`` names it in errors."""
    reader = _Reader(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise CurationError(path, mark.line + 1 if mark else None,
                            f"not valid YAML: {exc.problem or exc.context}") from exc
    if root is None:
        return Curation(path=path)
    top = reader.mapping(root, "the curation file", _TOP_KEYS)
    institutions = tuple(
        _institution(reader, node, i)
        for i, node in enumerate(reader.sequence(top.get("institutions", _empty()),
                                                 "institutions"))
    )
    slugs = [i.slug for i in institutions]
    if len(set(slugs)) != len(slugs):
        duplicate = next(s for s in slugs if slugs.count(s) > 1)
        raise reader.fail(top["institutions"], f"institution {duplicate!r} is listed twice")
    domains = tuple(reader.domain(n, "official domain")
                    for n in reader.sequence(top.get("official_domains", _empty()),
                                             "official_domains"))
    trusted_nodes = reader.sequence(top.get("trusted_sources", _empty()), "trusted_sources")
    trusted = frozenset(reader.text(n, "trusted source") for n in trusted_nodes)
    for node in trusted_nodes:
        if node.value.strip() == SUBMISSIONS_SOURCE:
            raise reader.fail(node, "public submissions can never be a trusted source")
    blocklist = tuple(_blocked_host(reader, n)
                      for n in reader.sequence(top.get("blocklist", _empty()), "blocklist"))
    return Curation(path=path, institutions=institutions, official_domains=domains,
                    trusted_sources=trusted, blocklist=blocklist)


def _blocked_host(reader: _Reader, node: yaml.Node) -> str:
    """A blocklist row: any host name (a public suffix is allowed: blocking is never a risk)."""
    value = reader.text(node, "blocklist entry").lower().rstrip(".")
    if "://" in value:
        value = host_of(value) or value
    if not is_host_name(value):
        raise reader.fail(node, f"blocklist entry {value!r} is not a host or domain name")
    return value


def load_curation(path: str | os.PathLike[str]) -> Curation:
    """Read the curation file at ``path``; CurationError when it is missing or malformed."""
    name = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise CurationError(name, None, f"cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise CurationError(name, None, "is not UTF-8 text") from exc
    return parse_curation(text, name)


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, size: int) -> Curation:
    return load_curation(path)


def curation_at(path: str | None) -> Curation:
    """The curation at ``path`` (none: an empty one), re-read whenever the file changes."""
    if not path:
        return Curation()
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise CurationError(path, None, f"cannot be read ({exc.strerror})") from exc
    return _cached(path, stat.st_mtime_ns, stat.st_size)
