"""docs/rules.md, generated from the rules' docstrings: `python -m migration_check.lint.docs > docs/rules.md`.
A test keeps the file in step with the code."""

from __future__ import annotations

from migration_check.lint import registered


def render() -> str:
    rules = registered()
    lines = ["# Lint rules", "",
             "Generated from the rules' docstrings by `python -m migration_check.lint.docs > docs/rules.md`;"
             " do not edit by hand.", "",
             "Each rule can be turned off or given another severity in the config"
             " (`lint: {drop-column: warning, prefer-text-field: off}`). A finding is confirmed in the migration,"
             " on the line before the statement, with a reason:"
             " `-- migration-check: allow <rule> \"<reason>\"`. The ignore comments of Atlas, squawk and eugene"
             " that name a rule's equivalent (listed under each rule), and diesel-guard's safety-assured blocks,"
             " acknowledge it too.", "",
             "| code | name | default | summary |", "|---|---|---|---|"]
    for rule in rules:
        default = rule.severity.value if rule.severity else "off"
        lines.append(f"| [{rule.code}](#{rule.code.lower()}-{rule.name}) | `{rule.name}` | {default} | {rule.summary()} |")
    for rule in rules:
        default = rule.severity.value if rule.severity else "off (a style rule)"
        lines += ["", f"## {rule.code} {rule.name}", "", f"**{rule.summary()}** Default: {default}.", "",
                  rule.documentation()]
        if rule.elsewhere:
            lines += ["", "The same check elsewhere: " + ", ".join(f"`{alias}`" for alias in rule.elsewhere) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
