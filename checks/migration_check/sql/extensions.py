"""Errors that name an object an extension brings, which production databases often have installed
by hand (or by their platform) while the migrations never CREATE EXTENSION it.

Read from the server's own error, never from the SQL text: `type "vector" does not exist`,
`function uuid_generate_v4() does not exist`, `operator class "gin_trgm_ops" does not exist for
access method "gin"`, and `data type integer has no default operator class for access method
"gist"` (an exclusion constraint on a scalar column: btree_gist's operator classes; a GIN index over a
scalar column beside a jsonb one: btree_gin's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pglast import parser

from migration_check.sql.dialects import FEATURE_NOT_SUPPORTED, UNDEFINED_OBJECT, missing_function, missing_type
from migration_check.sql.objects import unquote

TYPES = {"vector": "vector", "halfvec": "vector", "sparsevec": "vector", "geometry": "postgis",
         "geography": "postgis", "citext": "citext", "hstore": "hstore", "ltree": "ltree", "cube": "cube"}
FUNCTIONS = {
    **dict.fromkeys(("uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v3", "uuid_generate_v4",
                     "uuid_generate_v5", "uuid_nil"), "uuid-ossp"),
    **dict.fromkeys(("crypt", "gen_salt", "digest", "hmac", "gen_random_bytes", "pgp_sym_encrypt",
                     "pgp_sym_decrypt", "armor", "dearmor"), "pgcrypto"),
    **dict.fromkeys(("similarity", "word_similarity", "strict_word_similarity", "show_trgm"), "pg_trgm"),
    **dict.fromkeys(("levenshtein", "soundex", "metaphone", "dmetaphone", "difference"), "fuzzystrmatch"),
    **dict.fromkeys(("ll_to_earth", "earth_distance", "earth_box"), "earthdistance"),
    **dict.fromkeys(("st_makepoint", "st_setsrid", "st_geomfromtext", "st_distance", "st_dwithin",
                     "st_point", "st_transform", "st_intersects"), "postgis"),
    "unaccent": "unaccent",
    **dict.fromkeys(("create_hypertable", "add_retention_policy", "add_compression_policy", "time_bucket",
                     "add_continuous_aggregate_policy", "set_chunk_time_interval"), "timescaledb"),
}
OPERATOR_CLASSES = {
    "gin_trgm_ops": "pg_trgm", "gist_trgm_ops": "pg_trgm", "vector_l2_ops": "vector", "vector_ip_ops": "vector",
    "vector_cosine_ops": "vector", "halfvec_cosine_ops": "vector", "gist_geometry_ops_2d": "postgis",
}
# What a script needs of a build rather than of an extension, counted with the extensions it creates:
# an ICU collation (`provider = icu`, `COLLATE "und-x-icu"`) needs a server built with ICU, which the
# embedded build is not ("ICU is not supported in this build").
ICU = "ICU"
# Scalar types an exclusion constraint compares with `=` through GiST, or a GIN index holds beside
# a jsonb or array column: the operator classes of btree_gist and btree_gin, for these access methods.
SCALAR_TYPES = frozenset({"integer", "bigint", "smallint", "text", "uuid", "character varying", "numeric",
                          "date", "timestamp without time zone", "timestamp with time zone", "boolean"})
SCALAR_OPERATOR_CLASSES = {"gist": ("GiST", "btree_gist"), "gin": ("GIN", "btree_gin")}


@dataclass(frozen=True)
class ExtensionObject:
    name: str  # as the error names it
    kind: str  # "type", "function", "operator class"
    extension: str

    @property
    def kind_with_article(self) -> str:
        return f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}"

    def hint(self, made_in: Sequence[str] = ()) -> str:
        """What to do; `made_in`: where the repository creates the extension outside the migrations."""
        what = f"({self.name} is {self.kind_with_article} of the {self.extension} extension"
        if made_in:
            creates = "create" if len(made_in) > 1 else "creates"
            return (f"{what}, which {' and '.join(made_in)} {creates} outside the migrations: give this database the same, CREATE"
                    f" EXTENSION {self.extension} in a setup script (`--setup FILE`), on a server that has it)")
        return (f"{what}: CREATE EXTENSION {self.extension} first, in a migration or a setup script (`--setup FILE`),"
                " on a server that has it)")


def extension_object(sqlstate: str | None, message: str) -> ExtensionObject | None:
    """The extension object a missing-object error is about, if it is a well-known one."""
    written = missing_type(sqlstate, message)
    if written is not None:
        name = written.rsplit(".", 1)[-1]  # extensions.vector is vector
        return ExtensionObject(name, "type", TYPES[name]) if name in TYPES else None
    written = missing_function(sqlstate, message)
    if written is not None:
        name = written.rsplit(".", 1)[-1]
        return ExtensionObject(name, "function", FUNCTIONS[name]) if name in FUNCTIONS else None
    if sqlstate == UNDEFINED_OBJECT and message.startswith('operator class "'):
        name = message.removeprefix('operator class "').split('"', 1)[0]
        return ExtensionObject(name, "operator class", OPERATOR_CLASSES[name]) if name in OPERATOR_CLASSES else None
    if sqlstate == UNDEFINED_OBJECT and message.startswith("data type "):
        type_, _, method = message.removeprefix("data type ").partition(" has no default operator class for access method ")
        if type_ in SCALAR_TYPES and method.strip('"') in SCALAR_OPERATOR_CLASSES:
            shown, extension = SCALAR_OPERATOR_CLASSES[method.strip('"')]
            return ExtensionObject(f"{shown}'s {type_} equality", "operator class", extension)
    return None


def extension_creations(texts: Iterable[str]) -> Counter[str]:
    """How many of these scripts create each extension (`CREATE EXTENSION`, read with PostgreSQL's
    lexer, before any server starts: the local installation is chosen by them), and how many use an
    ICU collation (counted as `ICU`): an installation that lacks one fails that many of them."""
    counts: Counter[str] = Counter()
    for text in texts:
        lowered = text.lower()
        if "extension" not in lowered and "icu" not in lowered:
            continue
        try:
            tokens = [(token.name, text[token.start : token.end + 1]) for token in parser.scan(text)]
        except parser.ParseError:
            continue
        if "icu" in lowered and _uses_icu(tokens):
            counts[ICU] += 1
        names: set[str] = set()
        for at in range(len(tokens) - 2):
            if tokens[at][0] == "CREATE" and tokens[at + 1][0] == "EXTENSION":
                rest = tokens[at + 2 : at + 6]
                if [name for name, _ in rest[:3]] == ["IF_P", "NOT", "EXISTS"]:
                    rest = rest[3:]
                if rest and rest[0][0] == "IDENT":
                    value = rest[0][1]
                    names.add(unquote(value) if value.startswith('"') else value.lower())
        counts.update(names)
    return counts


def _uses_icu(tokens: list[tuple[str, str]]) -> bool:
    """`provider = icu` (CREATE COLLATION) or one of the ICU collations initdb makes (`"und-x-icu"`)."""
    for at, (name, value) in enumerate(tokens):
        if name == "IDENT" and value.endswith('-x-icu"'):
            return True
        if name == "IDENT" and value.lower() == "provider" and at + 2 < len(tokens) and tokens[at + 1][1] == "=" \
                and tokens[at + 2][1].strip("'\"").lower() == "icu":
            return True
    return False


def unavailable_here(sqlstate: str | None, message: str) -> str | None:
    """Where an extension or feature this server lacks can be had, in parentheses; None for other
    failures. The server's lack, not the migration's: production has the extension installed."""
    if sqlstate != FEATURE_NOT_SUPPORTED or not (
            message.startswith("extension ") and message.endswith(" is not available")
            or message.endswith(" is not supported in this build")):
        return None
    return ("(this server does not have it: check on one that does, `--pg-bindir DIR` (another local installation),"
            " `--postgres-image IMAGE` (Supabase's: supabase/postgres) or `--database-url URL`)")
