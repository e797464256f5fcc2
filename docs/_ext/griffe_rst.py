"""Griffe extension: read the reST roles of embedsite's numpydoc docstrings as Markdown.

The docstrings use Sphinx roles (``:class:`~embedsite.coverage.Coverage```, ``:func:`load```,
``:math:`r```, ``.. math::`` blocks) so that they read well in ``help()`` and in doctests. The
mkdocstrings Markdown renderer does not know them; this extension rewrites them once, when
griffe has loaded the package, before the docstrings are parsed:

* a role naming an embedsite object becomes a mkdocs-autorefs cross-reference, resolved in
  the scope of the documented object (``:func:`load``` in ``embedsite.standards`` links to
  ``embedsite.standards.load``), so an unknown or unrendered target fails ``--strict``;
* a role naming something outside the public API (a private helper, pandas, pyproj) becomes
  plain code;
* ``:math:`...``` becomes inline code and a ``.. math::`` block a ``latex`` code block (the
  site is read offline: no MathJax from a CDN);
* a reST definition list (a term line, its definition indented below it) in free text or in
  a section numpydoc does not parse (``Defaults and their sources``) becomes a Markdown one
  (``def_list``); the sections griffe parses (Parameters, Returns...) are left alone.

It also drops the undocumented attributes that only ``__init__`` sets (``self.radius =
radius`` of a siting model): the class's Parameters table already says what they are, and
the site shows undocumented module constants and dataclass fields (``show_if_no_docstring``).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):`(?P<body>[^`]+)`")
_MATH = re.compile(r":math:`(?P<body>[^`]+)`")
_MATH_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)\.\. math::[ \t]*\n(?P<body>(?:(?P=indent)[ \t]+.*\n|[ \t]*\n)+)", re.M
)


def _is_public(path: str) -> bool:
    return path.startswith("embedsite") and not any(p.startswith("_") for p in path.split("."))


def _target(obj: griffe.Object, name: str) -> str | None:
    """The full path of ``name`` seen from ``obj``, or None when griffe cannot find it."""
    if name.startswith("embedsite."):
        return name
    head, _, rest = name.partition(".")
    try:
        full = obj.resolve(head)
    except griffe.NameResolutionError:
        return None
    return f"{full}.{rest}" if rest else full


def _role(obj: griffe.Object, match: re.Match[str]) -> str:
    body = match.group("body").strip()
    explicit = re.fullmatch(r"(?P<title>.+?)\s*<(?P<name>[^>]+)>", body)
    if explicit:
        title, name = explicit.group("title"), explicit.group("name")
    else:
        name = body.lstrip("~")
        title = name.rsplit(".", 1)[-1] if body.startswith("~") else name
    name = name.removesuffix("()")
    target = _target(obj, name)
    if target is None or not _is_public(target):
        return f"`{title}`"
    return f"[`{title}`][{target}]"


def _math_block(match: re.Match[str]) -> str:
    indent = match.group("indent")
    body = textwrap.dedent(match.group("body")).strip("\n")
    lines = ["```latex", *body.splitlines(), "```"]
    return "\n".join(indent + line if line else line for line in lines) + "\n\n"


# numpydoc sections griffe parses into tables: their "name\n    description" entries stay
_PARSED_SECTIONS = {
    "parameters", "other parameters", "returns", "yields", "receives", "raises", "warns",
    "attributes", "methods", "functions", "classes", "modules", "examples", "see also",
}  # fmt: skip
_LIST_ITEM = re.compile(r"\s*(?:[-*+]|\d+[.)]|>>>|\.\.\.)\s")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _definition_lists(text: str) -> str:
    """reST definition lists (term, then its definition indented) as Markdown ``def_list``."""
    lines = text.split("\n")
    out: list[str] = []
    convert, fence, i = True, False, 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"\s*-{3,}\s*", nxt):  # a numpydoc section header
            convert = line.strip().lower() not in _PARSED_SECTIONS
            out += [line, nxt]
            i += 2
            continue
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        ind = _indent(line)
        prev = lines[i - 1] if i else ""
        is_term = (
            convert and not fence and line.strip() and not _LIST_ITEM.match(line)
            and nxt.strip() and _indent(nxt) >= ind + 4
            and (not prev.strip() or _indent(prev) > ind or re.fullmatch(r"\s*-{3,}\s*", prev))
        )  # fmt: skip
        if not is_term:
            out.append(line)
            i += 1
            continue
        j = i + 1
        body: list[str] = []
        while j < len(lines):
            if lines[j].strip() and _indent(lines[j]) >= ind + 4:
                body.append(lines[j])
            elif not lines[j].strip() and any(
                t.strip() and _indent(t) >= ind + 4 for t in lines[j + 1 : j + 2]
            ):
                body.append("")
            else:
                break
            j += 1
        if out and out[-1].strip() and not re.fullmatch(r"\s*-{3,}\s*", out[-1]):
            out.append("")
        body = textwrap.dedent("\n".join(body)).split("\n")
        pad = " " * ind
        out.append(line)
        out.append(f"{pad}:   {body[0]}")
        out += [f"{pad}    {b}" if b else "" for b in body[1:]]
        if j < len(lines) and lines[j].strip():
            out.append("")
        i = j
    return "\n".join(out)


def rewrite(obj: griffe.Object, text: str) -> str:
    """Rewrite the reST roles, math and definition lists of one docstring as Markdown."""
    text = _MATH_BLOCK.sub(_math_block, text if text.endswith("\n") else text + "\n")
    text = _definition_lists(text)
    text = _MATH.sub(lambda m: f"`{m.group('body')}`", text)
    return _ROLE.sub(lambda m: _role(obj, m), text).rstrip("\n")


class RstRoles(griffe.Extension):
    """Rewrite every embedsite docstring once the package is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path == "embedsite":
            self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj, obj.docstring.value)
        if obj.is_class and "dataclass" not in obj.labels:  # dataclass fields stay
            for name, member in list(obj.members.items()):
                if (not member.is_alias and member.is_attribute and member.docstring is None
                        and member.labels == {"instance-attribute"}):  # fmt: skip
                    del obj.members[name]
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)  # type: ignore[arg-type]
