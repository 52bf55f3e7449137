"""Classes of a JavaScript or TypeScript module, for the runners whose migrations are classes
(TypeORM's, MikroORM's): the classes declared at the module's top, their methods, and their fields
with values written in the class."""

from __future__ import annotations

from tree_sitter import Node

from migration_check.discovery.js_values import Code, Values, text_of


def class_declarations(root: Node) -> list[Node]:
    """Classes declared at the top of the module, exported or not (`module.exports = class ...` too)."""
    found = []
    for statement in root.named_children:
        target = statement
        if statement.type == "export_statement":
            target = statement.child_by_field_name("declaration") or statement.child_by_field_name("value") or statement
        elif statement.type == "expression_statement" and statement.named_children:
            assigned = statement.named_children[0]
            if assigned.type == "assignment_expression":
                target = assigned.child_by_field_name("right") or statement
        if target.type in ("class_declaration", "class", "abstract_class_declaration"):
            found.append(target)
    return found


def class_methods(body: Node) -> dict[str, Node]:
    """The class's methods by name."""
    return {text_of(key): member for member in body.named_children if member.type == "method_definition"
            and (key := member.child_by_field_name("name")) is not None}


def class_fields(body: Node, values: Values) -> dict[str, object]:
    """The class's fields with values written in it (`name = 'Init1700000000000'`, `transaction = false`)."""
    found: dict[str, object] = {}
    for member in body.named_children:
        if member.type not in ("public_field_definition", "field_definition"):
            continue
        key = member.child_by_field_name("name") or member.child_by_field_name("property")
        value = member.child_by_field_name("value")
        if key is None or value is None:
            continue
        try:
            found[text_of(key)] = values.value(value)
        except (Code, RecursionError):  # code, not a value: the runner reads the name from elsewhere then
            continue
    return found
