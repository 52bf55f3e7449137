"""Our lint against squawk's own test suite: how often we give squawk's expected verdict.

squawk's rules carry their tests in the Rust source (`crates/squawk_linter/src/rules/*.rs`): SQL in
`r#"..."#` and `lint_ok(sql, Rule::X)` or `lint_errors(sql, Rule::X)`. This reads those cases
(tests that change squawk's settings are left out), runs our rule that covers `Rule::X` on the same
SQL, and prints, per squawk rule, how many of squawk's verdicts we give, then every disagreement
with its SQL, so each can be judged: a bug of ours, or context squawk lacks.

    python benchmarks/lint_vs_squawk.py /path/to/squawk/checkout
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from migration_check.lint import rule_named
from migration_check.lint.engine import lint_script
from migration_check.model import Script
from migration_check.sql import SyntaxProblem

# squawk rule -> ours
COVERED = {
    "AddingFieldWithDefault": "volatile-default", "AddingForeignKeyConstraint": "constraint-missing-not-valid",
    "AddingNotNullableField": "set-not-null", "AddingPrimaryKeyConstraint": "blocking-unique-constraint",
    "AddingRequiredField": "adding-required-field", "BanAlterDomainWithAddConstraint": "domain-constraint",
    "BanCharField": "ban-char-field", "BanConcurrentIndexCreationInTransaction": "concurrently-in-transaction",
    "BanDropColumn": "drop-column", "BanDropDatabase": "drop-database", "BanDropTable": "drop-table",
    "BanDuplicateColumnAssignments": "duplicate-column-assignment", "BanTruncateCascade": "truncate",
    "BanUncommittedTransaction": "transaction-nesting", "ChangingColumnType": "change-column-type",
    "ConstraintMissingNotValid": "constraint-missing-not-valid", "DisallowedUniqueConstraint": "blocking-unique-constraint",
    "IdentifierTooLong": "identifier-too-long", "PreferBigintOverInt": "prefer-bigint",
    "PreferBigintOverSmallint": "prefer-bigint", "PreferIdentity": "prefer-identity", "PreferRepack": "table-rewrite-command",
    "PreferRobustStmts": "prefer-robust-statements", "PreferTextField": "prefer-text-field",
    "PreferTimestampTz": "prefer-timestamptz", "RenamingColumn": "rename-column", "RenamingTable": "rename-table",
    "RequireConcurrentIndexCreation": "index-without-concurrently",
    "RequireConcurrentIndexDeletion": "drop-index-without-concurrently",
    "RequireConcurrentPartitionDetach": "detach-partition-blocking",
    "RequireConcurrentReindex": "reindex-without-concurrently", "RequireTimeoutSettings": "missing-lock-timeout",
    "TransactionNesting": "transaction-nesting", "BanDropNotNull": "drop-not-null",
    "AddingSerialPrimaryKeyField": "adding-serial-primary-key", "BanCreateDomainWithConstraint": "domain-with-constraint",
}
# A test function's SQL and its verdict; a regex on Rust test source, not on SQL.
_CASE = re.compile(r'let sql = r#"(.*?)"#;.*?(lint_ok|lint_errors)\(\s*sql\s*,\s*Rule::(\w+)\s*\)', re.S)


def cases(checkout: Path) -> list[tuple[str, str, bool, str]]:
    found = []
    for source in sorted((checkout / "crates" / "squawk_linter" / "src" / "rules").glob("*.rs")):
        text = source.read_text()
        for function in re.split(r"\n\s*#\[test\]", text)[1:]:
            match = _CASE.search(function)
            if match and "_with(" not in function[:match.end()]:
                sql, verdict, rule = match.groups()
                found.append((source.stem, rule, verdict == "lint_errors", sql))
    return found


def main() -> int:
    checkout = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    agree, total, uncovered = Counter(), Counter(), Counter()
    disagreements = []
    for _, rule, expected, sql in cases(checkout):
        ours = COVERED.get(rule)
        if ours is None:
            uncovered[rule] += 1
            continue
        rule_class = rule_named(ours)
        assert rule_class is not None, ours
        try:
            found = bool(lint_script(Script(Path("case.sql"), sql), [rule_class()]).findings)
        except SyntaxProblem:
            found = False
        total[rule] += 1
        if found == expected:
            agree[rule] += 1
        else:
            disagreements.append((rule, ours, expected, sql.strip()))
    print(f"{'squawk rule':<42} {'ours':<32} agree")
    for rule in sorted(total):
        print(f"{rule:<42} {COVERED[rule]:<32} {agree[rule]}/{total[rule]}")
    print(f"\nall: {sum(agree.values())}/{sum(total.values())} of squawk's own verdicts;"
          f" squawk rules we do not cover: {', '.join(sorted(uncovered)) or 'none'}")
    for rule, ours, expected, sql in disagreements:
        print(f"\n--- {rule} ({ours}): squawk expects {'a finding' if expected else 'none'}, we give"
              f" {'none' if expected else 'a finding'}\n{sql}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
