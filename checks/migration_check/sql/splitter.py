"""Split a script into statements the way psql would run it (see the package docstring)."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from pglast import ast, parser
from pglast.stream import RawStream

from migration_check.model import Script
from migration_check.sql import trees
from migration_check.sql.keywords import newer_keyword_at
from migration_check.sql.lexing import Interrupt, next_interrupt
from migration_check.sql.psql import (
    OUTPUT_ONLY,
    REFUSED,
    meta_arguments,
    meta_name,
    read_included,
    resolve_include,
    substitute,
)
from migration_check.sql.source import Source, SyntaxProblem, advance, error_offset
from migration_check.sql.statement import (
    Statement,
    called_procedure,
    cannot_run_in_transaction,
    classify,
    committing_procedure,
)

_MAX_INCLUDE_DEPTH = 16


def split_script(script: Script) -> list[Statement]:
    """The statements of `script`, in order. Raises SyntaxProblem when the SQL does not parse or
    uses a psql feature that cannot be replayed."""
    return list(_split(script))


def statements_to_run(script: Script) -> list[Statement]:
    """The statements the executor sends: split_script's, except that a statement the parser this
    tool ships stops at a word a newer PostgreSQL reserves (sql/keywords.py) is cut where psql's
    lexer cuts it and sent as written: the server is the judge of its own grammar, and an older one
    lets `json_value` name a function. Raises SyntaxProblem as split_script does for any other."""
    try:
        return list(_split(script))  # the same statements, parsed once for the executor and the families
    except SyntaxProblem:
        return list(_split(script, lenient=True))


# A migration's up is split for the apply, the reapply and the families that read it, and its
# rollback for the rollback and the families: each script is parsed once (a SyntaxProblem is not
# cached, so it is raised each time).
@functools.lru_cache(maxsize=256)
def _split(script: Script, lenient: bool = False) -> tuple[Statement, ...]:
    source = Source(script.path, script.sql, script.first_line)
    if script.statements is not None:
        return tuple(_explicit_statements(source, script.statements))
    return tuple(Splitter(script.root, dict(script.variables), lenient).run(source))


def readable_statements(script: Script | None) -> list[Statement]:
    """The statements of `script`; none where there is no script or it does not parse (the
    executor reports that at its line when it runs the script)."""
    try:
        return split_script(script) if script is not None else []
    except SyntaxProblem:
        return []


def included_files(script: Script) -> tuple[Path, ...]:
    """The files a script's statements come from besides its own (`\\i`, a split pop migration's
    parts), in their order: comments there confirm their own statements."""
    return tuple(dict.fromkeys(s.path for s in readable_statements(script) if s.path != script.path))


def position_in_file(script: Script, offset: int) -> tuple[int, int]:
    """1-based (line, column) in the file of a character offset into `script.sql`."""
    return advance(script.first_line, 1, script.sql, offset)


def _explicit_statements(source: Source, pieces: tuple[tuple[int, str], ...]) -> list[Statement]:
    """Each piece runs as one statement, as the layout's runner sends it (a goose block may hold
    several statements, sent in one simple-protocol query)."""
    statements = []
    for offset, text in pieces:
        try:
            raw = trees.parse_sql(text)
        except parser.ParseError as exc:
            raise source.problem(offset + error_offset(exc, text), exc.args[0]) from None
        if not raw:
            continue  # only comments
        start = raw[0].stmt_location or 0
        nodes = [item.stmt for item in raw]
        line, column = source.position(offset + start)
        statements.append(Statement(
            sql=text[start:].rstrip(),
            path=source.path,
            line=line,
            column=column,
            offset=offset + start,
            node=type(nodes[0]).__name__,
            needs_autocommit=any(cannot_run_in_transaction(n) for n in nodes),
            transaction_control=any(isinstance(n, ast.TransactionStmt) for n in nodes),
            grouped=len(nodes) > 1,
        ))
    return statements


def statement_parts(statement: Statement) -> list[Statement]:
    """The statements a statement's text holds, each at its own line: one where it holds one; a
    goose block (`StatementBegin` ... `StatementEnd`) sent as one query may hold many, and what one
    of them did is told at its own line, not at the block's first (hatchet's LOCK TABLE)."""
    if not statement.grouped:
        return [statement]
    try:
        raw = trees.parse(statement.sql)
    except parser.ParseError:
        return [statement]
    parts = []
    for item in raw:
        if item.stmt is None:
            continue
        start = item.stmt_location or 0
        text = statement.sql[start : start + item.stmt_len] if item.stmt_len else statement.sql[start:]
        line, column = advance(statement.line, statement.column, statement.sql, start)
        parts.append(dataclasses.replace(
            statement, sql=text.strip(), line=line, column=column, offset=statement.offset + start,
            node=type(item.stmt).__name__, needs_autocommit=cannot_run_in_transaction(item.stmt),
            transaction_control=isinstance(item.stmt, ast.TransactionStmt), grouped=False))
    return parts or [statement]


def readable_parts(script: Script | None) -> list[Statement]:
    """readable_statements, each statement of a block the runner sends as one query on its own:
    for readers that tell where a statement did something."""
    return [part for statement in readable_statements(script) for part in statement_parts(statement)]


def _calls_outside_transactions(statements: list[Statement]) -> list[Statement]:
    """A CALL of a procedure the same script created, whose PL/pgSQL commits (a backfill in
    batches), runs outside a transaction block as psql runs it: it needs autocommit like a DO
    block that commits ("invalid transaction termination" otherwise)."""
    nodes = {s.node for s in statements}
    if "CallStmt" not in nodes or "CreateFunctionStmt" not in nodes:
        return statements
    committing: set[str] = set()
    marked = []
    for statement in statements:
        if statement.node == "CreateFunctionStmt" and (name := committing_procedure(trees.statement(statement.sql))):
            committing.add(name)
        elif statement.node == "CallStmt" and called_procedure(trees.statement(statement.sql)) in committing:
            statement = dataclasses.replace(statement, needs_autocommit=True)
        marked.append(statement)
    return marked


class Splitter:
    def __init__(self, root: Path | None = None, variables: dict[str, str] | None = None,
                 lenient: bool = False) -> None:
        self.root = root.resolve() if root is not None else None  # includes must stay inside it
        self.lenient = lenient  # statements_to_run's: a newer PostgreSQL's keyword is the server's to judge
        self.variables: dict[str, str] = dict(variables or {})
        self.statements: list[Statement] = []
        self.plain = True  # no meta-command, substitution or include seen

    def run(self, source: Source) -> list[Statement]:
        self._process(source, depth=0)
        statements = _calls_outside_transactions(self.statements)
        if not self.plain:
            return [dataclasses.replace(s, verbatim=False) for s in statements]
        return statements

    def _process(self, source: Source, depth: int) -> bool:
        """Split `source` into self.statements. Returns False when `\\q` ended the input."""
        text = source.text
        position = 0
        while True:
            interrupt = next_interrupt(source, position)
            if interrupt is None:
                self._plain_sql(source, position, len(text))
                return True
            if interrupt.kind == "copy":
                self._plain_sql(source, position, interrupt.start)
                self._attach_copy_data(source, interrupt)
            else:
                self.plain = False
                self._plain_sql(source, position, interrupt.start)
                if not interrupt.at_statement_start:
                    name = meta_name(text, interrupt.start)
                    raise source.problem(interrupt.start, REFUSED.get(
                        name, f"psql meta-command \\{name} inside a statement is not supported (end the statement with ; first)"))
                if not self._meta_command(source, interrupt.start, interrupt.end, depth):
                    return False
            position = interrupt.end

    def _plain_sql(self, source: Source, start: int, end: int) -> None:
        """Split source.text[start:end], which holds no meta-command and no COPY data."""
        chunk = source.text[start:end]
        if not chunk.strip():
            return
        mapping = None
        if self.variables and ":" in chunk:
            chunk, mapping = substitute(chunk, self.variables)
            if mapping is not None:
                self.plain = False

        def original(offset: int) -> int:
            return start + (mapping.original(offset) if mapping else offset)

        try:
            pieces = parser.split(chunk, with_parser=True, only_slices=True)
        except parser.ParseError as exc:
            if not self.lenient or newer_keyword_at(chunk, error_offset(exc, chunk)) is None:
                raise source.problem(original(error_offset(exc, chunk)), exc.args[0]) from None
            pieces = parser.split(chunk, with_parser=False, only_slices=True)
            for piece in pieces:
                if (unreadable := _unreadable(chunk[piece])) is not None:
                    raise source.problem(original(piece.start + unreadable[0]), unreadable[1]) from None
        for piece in pieces:
            text = chunk[piece].rstrip()
            node_name, autocommit = _classified(text)
            offset = original(piece.start)
            line, column = source.position(offset)
            self.statements.append(Statement(
                sql=text,
                path=source.path,
                line=line,
                column=column,
                offset=offset,
                node=node_name,
                needs_autocommit=autocommit,
                transaction_control=node_name == "TransactionStmt",
                verbatim=mapping is None,
            ))

    def _attach_copy_data(self, source: Source, interrupt: Interrupt) -> None:
        last = self.statements[-1] if self.statements else None
        if last is None or last.node != "CopyStmt":
            raise source.problem(interrupt.start, "COPY data without a COPY ... FROM stdin statement")
        self.statements[-1] = dataclasses.replace(last, copy_data=interrupt.data)

    def _meta_command(self, source: Source, start: int, end: int, depth: int) -> bool:
        """Apply one meta-command line. Returns False for `\\q`."""
        line = source.text[start:end].rstrip("\r\n")
        name = meta_name(source.text, start)
        arguments_at = start + 1 + len(name)
        if name in REFUSED:
            raise source.problem(start, REFUSED[name])
        if name in ("q", "quit"):
            return False
        if name in OUTPUT_ONLY or (name.startswith("d") and name.isalpha()):  # \d... only describe
            if name == "encoding":
                self._check_encoding(source, arguments_at, line[1 + len(name):])
            return True
        if name in ("set", "unset"):
            arguments = meta_arguments(source, arguments_at, line[1 + len(name):], self.variables, self.root)
            if arguments and name == "set":
                self.variables[arguments[0]] = "".join(arguments[1:])
            elif arguments:
                self.variables.pop(arguments[0], None)
            return True
        if name.lower() == "copy":  # psql compares this one without case (command.c)
            self._slash_copy(source, start, line[1 + len(name):])
            return True
        if name in ("i", "include", "ir", "include_relative"):
            arguments = meta_arguments(source, arguments_at, line[1 + len(name):], self.variables, self.root)
            if len(arguments) != 1:
                raise source.problem(start, f"\\{name} takes one file name")
            included = resolve_include(source, start, arguments[0], relative=name in ("ir", "include_relative"),
                                       root=self.root)
            if depth >= _MAX_INCLUDE_DEPTH:
                raise source.problem(start, f"\\{name} {arguments[0]}: includes nested too deeply (an include cycle?)")
            return self._process(Source(included, read_included(source, start, included)), depth + 1)
        raise source.problem(start, f"psql meta-command \\{name} is not supported")

    def _slash_copy(self, source: Source, at: int, rest: str) -> None:
        """psql's `\\copy table FROM 'file'`: the file, which must be the repository's (looked up as
        `\\i` looks it up), is sent as the data of `COPY table FROM STDIN`, as psql sends it. Writing
        a client-side file or running a program is refused."""
        try:
            [raw] = trees.parse_sql(f"COPY {rest}")
        except (parser.ParseError, ValueError):
            raise source.problem(at, f"\\copy{rest}: write it as psql documents it, the file name in quotes") from None
        copy = raw.stmt
        if not (isinstance(copy, ast.CopyStmt) and copy.is_from and not copy.is_program and copy.filename):
            raise source.problem(at, "\\copy is replayed only FROM a file of the repository: it writes no client-side"
                                     " file and runs no program; use COPY ... FROM stdin with the rows inline")
        path = resolve_include(source, at, str(copy.filename), relative=False, root=self.root)
        data = read_included(source, at, path)
        copy.filename = None  # FROM STDIN
        line, column = source.position(at)
        self.plain = False
        self.statements.append(Statement(sql=str(RawStream()(copy)), path=source.path, line=line, column=column,
                                         offset=at, node="CopyStmt", copy_data=data, verbatim=False))

    def _check_encoding(self, source: Source, at: int, rest: str) -> None:
        arguments = meta_arguments(source, at, rest, self.variables)
        if arguments and arguments[0].upper().replace("-", "") not in ("UTF8", "UNICODE"):
            raise source.problem(at, f"\\encoding {arguments[0]} is not supported: files are read as UTF-8")


def _unreadable(text: str) -> tuple[int, str] | None:
    """Where and why the statement `text` does not parse, unless it parses or stops at a word a
    newer PostgreSQL reserves (the server's to judge)."""
    try:
        parser.parse_sql_json(text)
    except parser.ParseError as exc:
        offset = error_offset(exc, text)
        return None if newer_keyword_at(text, offset) is not None else (offset, exc.args[0])
    return None


def _classified(text: str) -> tuple[str, bool]:
    """classify's answer; no node for a statement only the server reads (statements_to_run's)."""
    try:
        return classify(text)
    except parser.ParseError:
        return "", False
