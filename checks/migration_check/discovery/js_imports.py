"""Constants a migration module imports from the project's own modules (`import { TABLE_NAME_TAGS }
from '../dto/tag.dto'`, `const { USERS } = require('./tables')`), as JavaScript would bind them: the
value the other module exports under that name, where it is a value written there (a string, a
number, an object of those, a TypeScript enum of strings and numbers). Only relative imports of
files inside the repository are read (a package, `@hedgedoc/database`, is not here to read);
anything else stays unknown, and a migration that uses it is code, as before.
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any

from tree_sitter import Node

from migration_check.discovery.base import repository_root
from migration_check.discovery.js_reading import LANGUAGES, assigned_exports, parser
from migration_check.discovery.js_values import UNBOUND, Code, Values, arguments_of, text_of
from migration_check.discovery.listing import per_discovery

SUFFIXES = (".ts", ".tsx", ".js", ".mjs", ".cjs", ".mts", ".cts")
MAX_BYTES = 1_000_000  # a constants module, not a bundle
# The modules being read, for a cycle of imports (a imports b imports a): a cycle binds nothing.
_READING: contextvars.ContextVar[frozenset[Path]] = contextvars.ContextVar("reading", default=frozenset())


def import_bindings(root: Node) -> dict[str, tuple[str, str]]:
    """The names a module imports: each bound to (module, exported name; `*` for the whole module)."""
    return {local: (source, name) for statement in root.named_children for local, source, name in _bindings(statement)}


def imported_value(path: Path, source: str, name: str) -> Any:
    """The value the module at `path` imports as `name` from `source`, where that is a relative
    module exporting a value under that name; UNBOUND where not."""
    target = _resolved(path, source)
    if target is None:
        return UNBOUND
    exported = module_exports(target)
    if name == "*":
        return exported
    return exported.get(name, UNBOUND)


def _bindings(statement: Node) -> list[tuple[str, str, str]]:
    """(local name, module, exported name; `*` for the whole module) of an import or a require."""
    if statement.type == "import_statement":
        source = statement.child_by_field_name("source")
        clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
        if source is None or clause is None:
            return []
        module = _string(source)
        found = []
        for part in clause.named_children:
            if part.type == "namespace_import" and part.named_children:
                found.append((text_of(part.named_children[-1]), module, "*"))
            elif part.type == "named_imports":
                for specifier in part.named_children:
                    name, alias = specifier.child_by_field_name("name"), specifier.child_by_field_name("alias")
                    if specifier.type == "import_specifier" and name is not None:
                        found.append((text_of(alias or name), module, text_of(name)))
        return found
    if statement.type in ("lexical_declaration", "variable_declaration"):
        found = []
        for declarator in statement.named_children:
            pattern, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
            required = _required(value)
            if pattern is None or required is None:
                continue
            if pattern.type == "identifier":
                found.append((text_of(pattern), required, "*"))
            elif pattern.type == "object_pattern":
                for part in pattern.named_children:
                    if part.type == "shorthand_property_identifier_pattern":
                        found.append((text_of(part), required, text_of(part)))
                    elif part.type == "pair_pattern" and (key := part.child_by_field_name("key")) is not None \
                            and (local := part.child_by_field_name("value")) is not None and local.type == "identifier":
                        found.append((text_of(local), required, text_of(key)))
        return found
    return []


def _required(value: Node | None) -> str | None:
    """The module of `require('./x')`."""
    if value is None or value.type != "call_expression":
        return None
    callee, given = value.child_by_field_name("function"), arguments_of(value)
    if callee is None or text_of(callee) != "require" or len(given) != 1 or given[0].type != "string":
        return None
    return _string(given[0])


def _string(node: Node) -> str:
    """A string literal's value (its escapes read as JavaScript reads them)."""
    cooked = Values().cooked(node)
    return cooked if isinstance(cooked, str) else ""


def _resolved(path: Path, source: str) -> Path | None:
    """The file a relative import names, as Node.js and TypeScript resolve it, inside the repository."""
    if not source.startswith(("./", "../")):
        return None
    base = path.parent / source
    stem = base.with_suffix("") if base.suffix in (".js", ".mjs", ".cjs") else None  # TypeScript's `./x.js` for x.ts
    candidates = [base, *(base.with_name(base.name + s) for s in SUFFIXES),
                  *((stem.with_name(stem.name + s) for s in SUFFIXES) if stem is not None else ()),
                  *(base / f"index{s}" for s in SUFFIXES)]
    top = repository_root(path.parent)
    for candidate in candidates:
        try:
            if not candidate.is_file() or candidate.suffix not in LANGUAGES:
                continue
            real = candidate.resolve()
        except OSError:
            continue
        if top is not None and real.is_relative_to(top.resolve()) and real.stat().st_size <= MAX_BYTES:
            return real
    return None


@per_discovery
def module_exports(path: Path) -> dict[str, Any]:
    """What a module exports that is a value written in it (its own imports bound too)."""
    if path in _READING.get():
        return {}
    token = _READING.set(_READING.get() | {path})
    try:
        source = path.read_bytes()
        root = parser(LANGUAGES[path.suffix]).parse(source).root_node
        values = Values(root, path)
        return _exports(root, values, path)
    except (OSError, RecursionError):
        return {}
    finally:
        _READING.reset(token)


def _exports(root: Node, values: Values, path: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for statement in root.named_children:
        source = statement.child_by_field_name("source") if statement.type == "export_statement" else None
        if source is not None:  # `export * from './tag.dto'`, `export { A as B } from './x'`: an index's
            found |= _reexported(statement, _resolved(path, _string(source)))
            continue
        target = statement.named_children[0] if statement.type == "export_statement" and statement.named_children else None
        if target is not None and target.type in ("lexical_declaration", "variable_declaration"):
            for declarator in target.named_children:
                name = declarator.child_by_field_name("name")
                if name is not None and (value := values.constant(text_of(name))) is not UNBOUND:
                    found[text_of(name)] = value
        elif target is not None and target.type == "enum_declaration":
            _enum(target, found)
        elif target is not None and target.type == "export_clause":
            for specifier in target.named_children:
                name, alias = specifier.child_by_field_name("name"), specifier.child_by_field_name("alias")
                if name is not None and (value := values.constant(text_of(name))) is not UNBOUND:
                    found[text_of(alias or name)] = value
        elif statement.type == "expression_statement" and statement.named_children:
            for key, node in assigned_exports(statement.named_children[0]).items():
                try:
                    value = values.value(node) if not isinstance(node, str) else values.constant(node)
                except Code:
                    continue
                if value is not UNBOUND:
                    found[key] = value
    return found


def _reexported(statement: Node, target: Path | None) -> dict[str, Any]:
    if target is None:
        return {}
    exported = module_exports(target)
    clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
    if clause is None:
        return dict(exported)
    found = {}
    for specifier in clause.named_children:
        name, alias = specifier.child_by_field_name("name"), specifier.child_by_field_name("alias")
        if name is not None and text_of(name) in exported:
            found[text_of(alias or name)] = exported[text_of(name)]
    return found


def _enum(declaration: Node, found: dict[str, Any]) -> None:
    """A TypeScript enum whose members are strings or numbers (auto-numbered from 0 where unset)."""
    name, body = declaration.child_by_field_name("name"), declaration.child_by_field_name("body")
    if name is None or body is None:
        return
    members: dict[str, Any] = {}
    following: int | None = 0
    for member in body.named_children:
        if member.type == "property_identifier":
            if following is None:
                return
            members[text_of(member)], following = following, following + 1
        elif member.type == "enum_assignment" and (key := member.child_by_field_name("name")) is not None \
                and (given := member.child_by_field_name("value")) is not None:
            try:
                value = Values().value(given)
            except Code:
                return
            members[text_of(key)] = value
            following = value + 1 if isinstance(value, int) else None
    found[text_of(name)] = members
