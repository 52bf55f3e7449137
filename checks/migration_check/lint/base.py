"""What a lint rule is, and what it sees of a statement.

A rule is one module in `lint/rules/` with one `Rule` subclass: a stable `code` (MC001), a
kebab-case `name`, a default `severity` (or off), and a docstring whose first line is the summary
and whose body is the documentation (`docs/rules.md` is generated from it). `check` looks at one
parsed statement, with the context squawk lacks: whether the runner wraps the script in a
transaction, which tables the same migration created earlier (an index on a new table blocks
nobody), which timeouts it set, and the PostgreSQL version.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from pglast import ast
from pglast.enums import AlterTableType

from migration_check.model import Severity
from migration_check.sql import Statement
from migration_check.sql.objects import schema_of


class Observed(dict[str, bool | None]):
    """What the replay saw of the tables that existed before a migration's up: relname -> whether the
    up rewrote it (None: a partitioned table, whose partitions hold the rows). `complete`: every
    earlier migration is in the database, so a table missing here is missing in production too (a
    migration the replay could not run, dhis2's Java base schema, may have made it there)."""

    def __init__(self, seen: dict[str, bool | None], complete: bool = True, names: frozenset[str] = frozenset()) -> None:
        super().__init__(seen)
        self.complete = complete
        self.names = names  # the qualified names of those tables

    def schemas(self) -> set[str]:
        """The schemas that held one of those tables."""
        return {schema for name in self.names if (schema := schema_of(name))}


# The documentation's address; a finding links to its rule's section there.
DOCS = "docs/rules.md"


@dataclass
class LintContext:
    """What the statements before this one in the same migration did, and how the script runs."""

    server_version: int  # e.g. 150000
    in_transaction: bool  # the runner runs the whole script in one transaction
    explicit_transaction: bool = False  # inside a BEGIN ... COMMIT written in the file
    created: set[str] = field(default_factory=set)  # tables (unqualified) the migration created so far
    lock_timeout: bool = False  # a SET lock_timeout ran earlier in the script
    statement_timeout: bool = False
    sql: str = ""  # the statement's text, for what the parse tree no longer shows
    not_valid: set[str] = field(default_factory=set)  # constraints added NOT VALID earlier in the migration
    reported: set[str] = field(default_factory=set)  # rules that report once per script and have
    # How the project's runner runs a migration outside its transaction ("goose: run it outside one,
    # with `-- +goose NO TRANSACTION` in the file"); empty where unknown (`lint` without a project).
    leave_transaction: str = ""

    def existing(self, relation: ast.RangeVar | None) -> bool:
        """Whether a statement on `relation` affects a table that existed before this migration."""
        return relation is not None and bool(relation.relname) and relation.relname not in self.created

    def outside_transaction(self) -> str:
        """`(outside a transaction)`, with how this runner does it where the script runs in one."""
        how = f"; {self.leave_transaction}" if self.in_transaction and self.leave_transaction else ""
        return f"(outside a transaction{how})"


@dataclass(frozen=True)
class Finding:
    rule: Rule
    statement: Statement
    message: str  # what is wrong, why it is dangerous and what to do instead
    table: str | None = None  # the table the statement acts on (unqualified), where it has one

    @property
    def severity(self) -> Severity:
        return self.rule.level


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    # None: off unless the config turns it on (the style rules).
    severity: ClassVar[Severity | None] = Severity.WARNING
    # The rule predicts a table rewrite: in `check`, what the locks family observed decides.
    predicts_rewrite: ClassVar[bool] = False
    # The rule's finding is about a table that existed: where the replay saw none before the up
    # (`DROP TABLE IF EXISTS` of what no earlier migration made), the statement did nothing to judge.
    void_if_absent: ClassVar[bool] = False
    # What the finding's `table` names for that: a table, or a schema whose tables are the data at stake.
    absent_kind: ClassVar[str] = "table"
    # The same check in other migration linters, `tool:name` (Atlas's code or analyzer, squawk's
    # rule, eugene's hint): their ignore comments acknowledge this rule's finding too.
    elsewhere: ClassVar[tuple[str, ...]] = ()

    def __init__(self, level: Severity | None = None) -> None:
        """`level`: the severity the config gives this rule (default: the rule's own, or warning)."""
        self.level = level or self.severity or Severity.WARNING

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str | tuple[str, str]]:
        """The messages for one statement's parse node (usually none); a message may come with the
        table it is about, where the statement names several."""
        raise NotImplementedError

    @classmethod
    def docstring(cls) -> str:
        """The rule's documentation: its class's docstring, or its module's (one rule per module)."""
        return inspect.cleandoc(cls.__doc__ or sys.modules[cls.__module__].__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.docstring().partition("\n")[0]

    @classmethod
    def documentation(cls) -> str:
        return cls.docstring().partition("\n")[2].strip()

    @classmethod
    def anchor(cls) -> str:
        return f"{DOCS}#{cls.code.lower()}-{cls.name}"


def table_commands(node: ast.Node) -> Iterator[tuple[ast.RangeVar, ast.AlterTableCmd]]:
    """The commands of an ALTER TABLE, with the table they act on."""
    if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        for command in node.cmds or ():
            if isinstance(command, ast.AlterTableCmd):
                yield node.relation, command


def added_columns(node: ast.Node, context: LintContext) -> Iterator[tuple[ast.RangeVar, ast.ColumnDef]]:
    """The columns an ALTER TABLE adds to a table that existed before the migration."""
    for table, command in table_commands(node):
        column = command.def_
        if command.subtype == AlterTableType.AT_AddColumn and isinstance(column, ast.ColumnDef) and context.existing(table):
            yield table, column


def qualified(relation: ast.RangeVar) -> str:
    return f"{relation.schemaname}.{relation.relname}" if relation.schemaname else str(relation.relname)


class ColumnTypeRule(Rule):
    """A style rule on the types of the columns a statement defines: `types` (pg_type names) are
    reported with `advice`."""

    severity = None  # style rules are off unless the config turns them on
    types: ClassVar[frozenset[str]]
    advice: ClassVar[str]
    needs_length: ClassVar[bool] = False  # only with a length (varchar(n), not varchar)

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        from migration_check.lint.nodes import column_types, type_name

        for column, type_ in column_types(node):
            if type_name(type_) in self.types and (type_.typmods or not self.needs_length):
                yield f"column {column} {self.advice}"
