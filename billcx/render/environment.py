"""The Jinja2 environment and the template pack: sandboxed, strict, escaped, compiled once.

A template pack is a folder with one sub-folder per language (``en``, ``fr``, ``fr-CA`` ...).  In
each, ``<template id>.j2`` holds one message (macros ``subject``, ``body`` and ``sms``; ``push``
optional) and the channel layouts ``_email.txt.j2``, ``_email.html.j2`` and ``_letter.html.j2``
wrap it with the greeting, invoice lines, offer, pay link, contact and opt-out footer.

Safety by construction:

* :class:`jinja2.sandbox.ImmutableSandboxedEnvironment`: templates cannot reach ``__class__`` and
  friends, call unsafe methods or modify the context's lists and dicts;
* :class:`jinja2.StrictUndefined`: a misspelt or missing variable raises instead of printing nothing;
* ``finalize`` raises on None, so missing data (a customer without a name) never prints "None";
* autoescape for ``*.html.j2``: customer data is escaped in HTML; text templates stay plain.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError, meta, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from billcx.render.locales import formatter

DEFAULT_PACK = Path(__file__).resolve().parent / "templates"
REQUIRED_MACROS = ("subject", "body", "sms")
LAYOUTS: dict[str, tuple[str, ...]] = {
    "email": ("_email.txt.j2", "_email.html.j2"),
    "letter": ("_letter.html.j2",),
    "sms": (),
    "push": (),
}


class MissingValueError(TemplateError):
    """A template printed a value that is None (missing data): the message must not be sent."""


def _finalize(value: Any) -> Any:
    if value is None:
        raise MissingValueError("a printed value is None (missing data); guard it with {% if %}")
    return value


@pass_context
def _money(ctx: Context, minor: int, currency: str) -> str:
    return formatter(ctx["locale"]).money(int(minor), currency)


@pass_context
def _date(ctx: Context, value: Any, style: str = "long") -> str:
    return formatter(ctx["locale"]).date(value, style)


def _paragraphs(text: str) -> Markup:
    """Plain text to HTML: blank lines separate ``<p>`` paragraphs, single newlines become ``<br>``."""
    # Escape once, then add tags with plain string operations (markupsafe joins are slow).
    safe = str(escape(str(text)))
    paras = [p.strip() for p in safe.split("\n\n") if p.strip()]
    return Markup("\n".join("<p>" + "<br>\n".join(line.strip() for line in p.split("\n")) + "</p>"
                             for p in paras))


_DICT_ATTRS = frozenset(dir(dict))


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox with a fast path for ``dict.key`` lookups.

    Message variables are plain dicts; Jinja first tries ``getattr(dict, key)``, which raises
    AttributeError before falling back to the item, a slow path taken ~30 times per message.  Keys
    are looked up first here, except names of dict methods, so precedence is unchanged, and the
    sandbox checks still apply to every real attribute access.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRS:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def make_environment(folder: Path) -> ImmutableSandboxedEnvironment:
    """A sandboxed, strict environment loading templates from ``folder``.

    Args:
        folder: a template pack (see the module docstring).

    Returns:
        The environment, with filters ``money(currency)``, ``date(style)`` and ``paragraphs``.
    """
    env = _Environment(
        loader=FileSystemLoader(str(folder), encoding="utf-8"),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters.update(money=_money, date=_date, paragraphs=_paragraphs)
    return env


def render_shared(template: Template, ctx: dict[str, Any]) -> str:
    """Render with ``ctx`` as the template's own context (no copy; ctx must hold the globals).

    ``Template.render`` copies the variables and the globals into a new dict for every call; with
    thousands of messages per second that copy is a large part of the cost.  Errors are re-raised
    by Jinja's handler, so their tracebacks point at template lines.
    """
    try:
        return "".join(template.root_render_func(template.new_context(ctx, shared=True)))
    except Exception:
        template.environment.handle_exception()
        raise  # handle_exception always raises; this line keeps type checkers informed


class MessageModule:
    """A message template evaluated for one message: its macros give the parts (subject, body ...)."""

    def __init__(self, template: Template, ctx: dict[str, Any]) -> None:
        self._env = template.environment
        try:
            self._module = template.make_module(ctx, shared=True)
        except Exception:
            self._env.handle_exception()
            raise

    def has(self, name: str) -> bool:
        """Whether the template defines macro ``name``."""
        return callable(getattr(self._module, name, None))

    def part(self, name: str) -> str:
        """The text of macro ``name`` (errors point at template lines)."""
        try:
            return str(getattr(self._module, name)())
        except Exception:
            self._env.handle_exception()
            raise


@dataclass(frozen=True)
class Resolved:
    """The templates one message uses, found along its locale's fallback chain."""

    name: str  # e.g. "fr/overdue"
    language: str  # folder the message template came from, e.g. "fr"
    message: Template
    layouts: tuple[Template, ...]
    sha256: str  # over the sources of every template file involved
    fell_back_to_kind: bool
    names: frozenset[str]  # variables the templates use (undeclared names of every file involved)


_PACKS: dict[str, tuple[tuple[tuple[str, int, int], ...], Pack]] = {}


class TemplateNotFound(LookupError):
    """No template for this id in any language of the chain."""


class Pack:
    """A loaded template pack: resolves (template id, kind, channel, language chain) once each."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else DEFAULT_PACK
        self.env = make_environment(self.folder)
        self.names = frozenset(self.env.list_templates(extensions=["j2"]))
        self._cache: dict[tuple[str, str, str, tuple[str, ...], bool], Resolved | Exception] = {}
        self._sources: dict[str, str] = {}
        self._parsed: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def cached(cls, folder: Path | None = None) -> Pack:
        """A process-wide pack for ``folder``, reloaded when any of its files changed.

        Compiling a pack costs tens of milliseconds per template; repeated ``render`` calls in one
        process (previews, notebooks, tests) reuse it while the files' names, sizes and
        modification times are unchanged.
        """
        root = Path(folder) if folder is not None else DEFAULT_PACK
        stamp = tuple(sorted((str(p.relative_to(root)), p.stat().st_mtime_ns, p.stat().st_size)
                             for p in root.rglob("*.j2")))
        key = str(root.resolve())
        hit = _PACKS.get(key)
        if hit is None or hit[0] != stamp:
            hit = _PACKS[key] = (stamp, cls(root))
        return hit[1]

    def languages(self) -> list[str]:
        """Language folders present in the pack, sorted."""
        return sorted({n.split("/", 1)[0] for n in self.names if "/" in n})

    def message_ids(self, language: str) -> list[str]:
        """Message template ids of one language folder, sorted."""
        prefix = f"{language}/"
        return sorted(n[len(prefix):-3] for n in self.names
                      if n.startswith(prefix) and not n[len(prefix):].startswith("_") and "/" not in
                      n[len(prefix):])

    def source(self, name: str) -> str:
        """The source text of a template file."""
        src = self._sources.get(name)
        if src is None:
            src = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            self._sources[name] = src
        return src

    def _closure(self, names: list[str]) -> list[str]:
        """Every template file the given ones include, import or extend (statically known)."""
        seen: list[str] = []
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.append(name)
            todo.extend(ref for ref in self._analysis(name)[0] if ref in self.names)
        return sorted(seen)

    def _analysis(self, name: str) -> tuple[tuple[str, ...], frozenset[str]]:
        """The templates one file refers to and the variables it leaves undeclared, from one parse
        per file (messages of many ids and languages share their layouts)."""
        hit = self._parsed.get(name)
        if hit is None:
            tree = self.env.parse(self.source(name))
            refs = tuple(r for r in meta.find_referenced_templates(tree) if r is not None)
            hit = self._parsed[name] = (refs, frozenset(meta.find_undeclared_variables(tree)))
        return hit

    def resolve(self, template_id: str, kind: str, channel: str, chain: tuple[str, ...],
                *, fallback_to_kind: bool) -> Resolved:
        """Find and compile the templates for one message.

        Raises:
            TemplateNotFound: neither the template id (nor, when allowed, the kind) exists.
            jinja2.TemplateSyntaxError: a template does not compile (cached, raised again).
        """
        key = (template_id, kind, channel, chain, fallback_to_kind)
        hit = self._cache.get(key)
        if hit is None:
            with self._lock:
                try:
                    hit = self._resolve(template_id, kind, channel, chain, fallback_to_kind)
                except (TemplateNotFound, TemplateError) as exc:
                    hit = exc
                self._cache[key] = hit
        if isinstance(hit, Exception):
            raise hit
        return hit

    def _find(self, template_id: str, chain: tuple[str, ...]) -> tuple[int, str] | None:
        for i, lang in enumerate(chain):
            name = f"{lang}/{template_id}.j2"
            if name in self.names:
                return i, name
        return None

    def _resolve(self, template_id: str, kind: str, channel: str, chain: tuple[str, ...],
                 fallback_to_kind: bool) -> Resolved:
        found = self._find(template_id, chain) if _safe_id(template_id) else None
        fell_back = False
        if found is None and fallback_to_kind and template_id != kind:
            found = self._find(kind, chain)
            fell_back = found is not None
        if found is None:
            looked = ", ".join(chain)
            raise TemplateNotFound(f"template '{template_id}' not found (looked in {looked})")
        level, name = found
        layouts: list[str] = []
        for layout in LAYOUTS.get(channel, ()):
            for lang in chain[level:]:
                if f"{lang}/{layout}" in self.names:
                    layouts.append(f"{lang}/{layout}")
                    break
            else:
                raise TemplateNotFound(f"layout '{layout}' not found (looked in {', '.join(chain[level:])})")
        files = self._closure([name, *layouts])
        digest = hashlib.sha256()
        names: set[str] = set()
        for f in files:
            digest.update(f.encode() + b"\x00" + self.source(f).encode() + b"\x00")
            names |= self._analysis(f)[1]
        return Resolved(name=name[:-3], language=chain[level], message=self.env.get_template(name),
                        layouts=tuple(self.env.get_template(n) for n in layouts),
                        sha256=digest.hexdigest(), fell_back_to_kind=fell_back, names=frozenset(names))


def _safe_id(template_id: str) -> bool:
    return bool(template_id) and all(c.isalnum() or c in "_-." for c in template_id) \
        and not template_id.startswith((".", "_"))


def _frames(tb: TracebackType | None) -> Iterator[tuple[str, int]]:
    while tb is not None:
        yield tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next


def raised_in_template(exc: BaseException, pack: Pack) -> bool:
    """Whether the traceback passes through a template of ``pack`` (Jinja rewrites it to show them)."""
    root = str(pack.folder)
    return any(f.startswith(root) and f.endswith(".j2") for f, _ in _frames(exc.__traceback__))


def describe_error(exc: BaseException, pack: Pack) -> str:
    """``file:line: message`` for a template error (line found in Jinja's rewritten traceback)."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    filename = getattr(exc, "filename", None) or getattr(exc, "name", None)
    lineno = getattr(exc, "lineno", None)
    if not lineno:
        root = str(pack.folder)
        for fname, line in _frames(exc.__traceback__):
            if fname.startswith(root) and fname.endswith(".j2"):
                filename, lineno = fname, line
    if filename:
        rel = str(filename)
        if rel.startswith(str(pack.folder)):
            rel = rel[len(str(pack.folder)):].lstrip("/\\")
        return f"{rel}:{lineno}: {message}" if lineno else f"{rel}: {message}"
    return message
