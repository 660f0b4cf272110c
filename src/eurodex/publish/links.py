"""The register's own addresses, built from one base URL.

The web app passes the base its request arrived at (so links stay right behind a proxy);
the command line has no request and passes the operator's ``--base-url``, or nothing, in which
case links are paths relative to wherever the export is served from.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Links:
    base: str = ""  # "https://eurodex.example" without a trailing slash, or "" for paths

    @classmethod
    def at(cls, base: str) -> Links:
        return cls(base.rstrip("/"))

    def _path(self, path: str) -> str:
        return f"{self.base}{path}"

    @property
    def home(self) -> str:
        return self._path("/")

    @property
    def methodology(self) -> str:
        return self._path("/methodology")

    def entry(self, slug: str) -> str:
        return self._path(f"/entry/{quote(slug)}")

    def entry_json(self, slug: str) -> str:
        return self._path(f"/api/v1/entries/{quote(slug)}")

    def entry_checks(self, slug: str) -> str:
        return self._path(f"/api/v1/entries/{quote(slug)}/checks")

    def institution(self, slug: str) -> str:
        return self._path(f"/institution/{quote(slug)}")

    def badge(self, slug: str) -> str:
        return self._path(f"/badge/{quote(slug)}.svg")

    def api(self, path: str) -> str:
        """A path of the JSON API, ``/api/v1`` included: ``links.api("/catalog/summary")``."""
        return self._path(f"/api/v1{path}")

    def absolute(self, path: str) -> str:
        return self._path(path)
