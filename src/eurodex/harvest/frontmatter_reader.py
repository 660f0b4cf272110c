"""Reading Markdown files with YAML front matter, safely.

Front matter is parsed with PyYAML's BaseLoader, so every scalar stays the string the author
wrote: ``no`` stays "no" and ``1.10`` stays "1.10" instead of becoming False and 1.1.
Aliases (``*name``) are refused: a catalogue record has no use for them, and a few nested
ones make a value that grows exponentially when it is read (a "billion laughs").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler


class FrontMatterError(ValueError):
    """A front-matter file that cannot be read; the message names the file and the reason."""


class _StringLoader(yaml.BaseLoader):
    """Strings, lists and mappings only, and no aliases."""

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's own signature
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not read in front matter",
                self.peek_event().start_mark)
        return super().compose_node(parent, index)


class _StringYAMLHandler(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> object:
        return yaml.load(fm, Loader=_StringLoader)  # noqa: S506 - BaseLoader builds no objects


@dataclass(frozen=True)
class FrontMatterDocument:
    path: Path
    metadata: dict[str, object]
    body: str


def read_front_matter(path: Path, *, max_bytes: int = 2_000_000) -> FrontMatterDocument:
    """Parse ``path``; raise :class:`FrontMatterError` naming the file on any problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FrontMatterError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    if len(raw) > max_bytes:
        raise FrontMatterError(f"{path.name}: larger than {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrontMatterError(f"{path.name}: not UTF-8 (byte {exc.start})") from exc
    if not text.lstrip().startswith("---"):
        raise FrontMatterError(f"{path.name}: no front matter (the file must start with ---)")
    try:
        post = frontmatter.loads(text, handler=_StringYAMLHandler())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise FrontMatterError(f"{path.name}: invalid YAML front matter{where}: {problem}") from exc
    except Exception as exc:  # python-frontmatter raises bare ValueErrors on odd delimiters
        raise FrontMatterError(f"{path.name}: unreadable front matter: {exc}") from exc
    if not isinstance(post.metadata, dict):
        raise FrontMatterError(f"{path.name}: front matter is not a mapping of fields")
    return FrontMatterDocument(path, dict(post.metadata), post.content)
