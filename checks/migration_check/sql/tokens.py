"""Code compared as PostgreSQL reads it: a token stream, without comments or layout.

Two function bodies that differ only in comments, white space or the case of keywords and
unquoted names are the same function. PL/pgSQL is read by the core lexer too (it is what
PL/pgSQL's own scanner is built on), so this serves `sql` and `plpgsql` bodies alike.
"""

from __future__ import annotations

import functools

from pglast import parser

_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
# Tokens whose letters are folded to lower case by PostgreSQL: keywords and unquoted names.
_CASE_FOLDED = frozenset({"IDENT"})


@functools.lru_cache(maxsize=4096)
def code_tokens(text: str) -> tuple[str, ...] | None:
    """The tokens of `text`, comments left out, keywords and unquoted names in lower case; None
    when the lexer cannot read it (then only the exact text can be compared)."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return None
    result = []
    for token in tokens:
        if token.name in _COMMENTS:
            continue
        value = text[token.start : token.end + 1]
        folded = token.kind != "NO_KEYWORD" or (token.name in _CASE_FOLDED and not value.startswith('"'))
        result.append(value.lower() if folded else value)
    return tuple(result)


def same_code(before: str, after: str) -> bool:
    """Whether two pieces of SQL or PL/pgSQL are the same code, apart from comments and layout."""
    if before == after:
        return True
    tokens_before, tokens_after = code_tokens(before), code_tokens(after)
    return tokens_before is not None and tokens_before == tokens_after
