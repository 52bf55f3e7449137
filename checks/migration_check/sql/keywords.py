"""Words a newer PostgreSQL reserves that an older one let name anything.

PostgreSQL 16 and 17 made the SQL/JSON words keywords that can no longer name a function, a
function's parameter or its result column (`CREATE FUNCTION json_value(...)`, `RETURNS TABLE (json
text)`): pgxn/pgxn-manager's migrations, run on PostgreSQL 12 to 16 by its CI, stop at them on 17
and later, and the parser this tool ships (pglast's, PostgreSQL 17's) stops at them too. Such a
migration is no defect of the migration: it was written for an older server. The words and the
first major version where each is more than an unreserved keyword, as `pg_get_keywords()` of
PostgreSQL 15 and 18 differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pglast import parser

from migration_check.sql.dialects import SYNTAX_ERROR
from migration_check.sql.source import error_offset

NEWER_KEYWORDS = {
    **dict.fromkeys(("json", "json_array", "json_arrayagg", "json_object", "json_objectagg", "system_user"), 16),
    **dict.fromkeys(("json_exists", "json_query", "json_scalar", "json_serialize", "json_table", "json_value",
                     "merge_action"), 17),
}
# How many tokens before a syntax error a newer keyword may be and still be the cause.
NEAR_TOKENS = 8
# A pseudo-extension a script "wants" (presets.wanted_extensions): a server older than the version.
UNRESERVED_PREFIX = "unreserved "


@dataclass(frozen=True)
class NewerKeyword:
    word: str
    since: int  # the first major version that reserves it

    @property
    def wanted(self) -> str:
        """The name the choice among local installations counts it under."""
        return f"{UNRESERVED_PREFIX}{self.word}"

    def hint(self, server_major: int) -> str:
        return (f"(\"{self.word}\" is a keyword from PostgreSQL {self.since} on, no longer a name where it stands here;"
                f" this server is PostgreSQL {server_major}: the migration was written for an older one. Check on the"
                " version production runs: `--pg-bindir DIR` (another local installation), `--postgres-image IMAGE`"
                " or `--database-url URL`)")


def newer_keyword_at(sql: str, offset: int | None) -> NewerKeyword | None:
    """The newer keyword at `offset` in `sql` (a parser's or server's syntax error there), or the
    nearest of the few tokens before it (`json_value(` stops at the parenthesis, a call of the
    project's own `json_value(lower(tag))` at the last one); with no offset, the first in `sql`."""
    lowered = sql.lower()
    if not any(word in lowered for word in NEWER_KEYWORDS):
        return None
    try:
        tokens = parser.scan(sql)
    except parser.ParseError:
        return None
    if offset is not None:
        tokens = [token for token in tokens if token.start <= offset][-NEAR_TOKENS:][::-1]
        body = tokens[0] if tokens else None
        if body is not None and body.name == "SCONST" and sql[body.start] == "$" and offset <= body.end:
            # In a function's body, which the server validates at CREATE (LANGUAGE sql).
            tag = sql[body.start:sql.index("$", body.start + 1) + 1]
            start = body.start + len(tag)
            return newer_keyword_at(sql[start:body.end + 1 - len(tag)], offset - start)
    for token in tokens:
        word = sql[token.start:token.end + 1].lower()
        if word in NEWER_KEYWORDS:
            return NewerKeyword(word, NEWER_KEYWORDS[word])
    return None


def installation_lacks(wanted: str, version: tuple[int, ...]) -> bool | None:
    """For a pseudo-extension of this module: whether an installation of `version` reserves the
    word; None for any other name."""
    if not wanted.startswith(UNRESERVED_PREFIX):
        return None
    since = NEWER_KEYWORDS.get(wanted[len(UNRESERVED_PREFIX):])
    return since is not None and version >= (since,)


def reserved_in(texts: Iterable[str]) -> Counter[str]:
    """For each newer keyword, how many of the scripts `texts` the parser stops at it: an
    installation that reserves it fails that many of them."""
    counts: Counter[str] = Counter()
    for text in texts:
        lowered = text.lower()
        if not any(word in lowered for word in NEWER_KEYWORDS):
            continue
        try:
            parser.split(text, with_parser=True, only_slices=True)
        except parser.ParseError as exc:
            found = newer_keyword_at(text, error_offset(exc, text))
            if found is not None:
                counts[found.wanted] += 1
    return counts


def newer_keyword_hint(sqlstate: str | None, statement: str | None, near: int | None, server_version: int) -> str | None:
    """Why a syntax error on this server is no defect of the migration: it stopped at a word this
    server reserves and the PostgreSQL it was written for did not; else None."""
    if sqlstate != SYNTAX_ERROR or not statement:
        return None
    found = newer_keyword_at(statement, near)
    if found is None or server_version // 10000 < found.since:
        return None
    return found.hint(server_version // 10000)
