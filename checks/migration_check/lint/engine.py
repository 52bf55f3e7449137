"""Run the lint rules over a script's statements, keeping the context as the script goes: the
tables it created, the timeouts it set, whether it is inside a BEGIN ... COMMIT of its own."""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast, parser
from pglast.enums import TransactionStmtKind

from migration_check.lint.base import Finding, LintContext, Rule
from migration_check.lint.rules.mc020_transaction_nesting import TransactionNesting
from migration_check.model import Script, Transaction
from migration_check.replay.executor import runs_in_one_transaction
from migration_check.sql import Statement, statements_to_run, trees
from migration_check.sql.splitter import statement_parts

DEFAULT_SERVER_VERSION = 170000  # what `lint` assumes without --pg-version
_BEGIN = (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)
_END = (TransactionStmtKind.TRANS_STMT_COMMIT, TransactionStmtKind.TRANS_STMT_ROLLBACK,
        TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED, TransactionStmtKind.TRANS_STMT_PREPARE)


@dataclass(frozen=True)
class ScriptLint:
    statements: list[Statement]
    findings: list[Finding]


def lint_script(script: Script, rules: list[Rule], server_version: int = DEFAULT_SERVER_VERSION,
                created: set[str] | None = None, leave_transaction: str = "") -> ScriptLint:
    """The findings of `rules` in `script` (raises SyntaxProblem for a script that does not parse).
    `leave_transaction`: how the project's runner runs a migration outside its transaction."""
    statements = statements_to_run(script)
    context = LintContext(server_version, runs_in_one_transaction(script, statements, server_version),
                          created=set(created or ()), leave_transaction=leave_transaction)
    findings: list[Finding] = []
    last_begin: Statement | None = None
    for statement in (part for whole in statements for part in statement_parts(whole)):
        try:
            parsed = trees.parse(statement.sql)
        except parser.ParseError:
            continue  # psql meta-commands and the like: the executor reports what cannot run
        context.sql = statement.sql
        for raw in parsed:
            node = raw.stmt
            if node is None:
                continue
            relation = getattr(node, "relation", None)
            table = getattr(relation, "relname", None) if isinstance(relation, ast.RangeVar) else None
            for rule in rules:
                for found in rule.check(node, context):  # a message, or (message, the table it is about)
                    message, about = found if isinstance(found, tuple) else (found, table)
                    findings.append(Finding(rule, statement, message, about))
            if isinstance(node, ast.TransactionStmt) and node.kind in _BEGIN:
                last_begin = statement
            _advance(context, node)
    # A runner that wraps the file commits what it left open: nakama's sql-migrate files end the
    # runner's transaction (COMMIT), run CREATE INDEX CONCURRENTLY, and open one for it to commit.
    if context.explicit_transaction and last_begin is not None and script.transaction is not Transaction.WRAPPED:
        nesting = next((rule for rule in rules if isinstance(rule, TransactionNesting)), None)
        if nesting is not None:
            findings.append(Finding(nesting, last_begin, TransactionNesting.unfinished()))
    return ScriptLint(statements, findings)


def _advance(context: LintContext, node: ast.Node) -> None:
    """What this statement changes for the statements after it."""
    if isinstance(node, ast.CreateStmt) and node.relation is not None:
        context.created.add(str(node.relation.relname))
    elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None and node.into.rel is not None:
        context.created.add(str(node.into.rel.relname))
    elif isinstance(node, ast.TransactionStmt):
        if node.kind in _BEGIN:
            context.explicit_transaction = True
        elif node.kind in _END:
            context.explicit_transaction = False
    elif isinstance(node, ast.AlterTableStmt):
        context.not_valid |= {str(cmd.def_.conname) for cmd in node.cmds or ()
                              if isinstance(getattr(cmd, "def_", None), ast.Constraint) and cmd.def_.skip_validation}
    elif isinstance(node, ast.VariableSetStmt) and node.name in ("lock_timeout", "statement_timeout"):
        setattr(context, node.name, True)
