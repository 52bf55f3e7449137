"""The part of Go's text/template that projects render their migration files with
(discovery/go_template_text.py): what it renders, as text/template renders it, and what it does not."""

from __future__ import annotations

import pytest

from migration_check.discovery.go_template_text import render

GIVEN = {"prefix": "fb_", "postgres": "true", "plugin": "false"}


@pytest.mark.parametrize(("template", "text"), [
    ("CREATE TABLE {{.prefix}}blocks (id int);", "CREATE TABLE fb_blocks (id int);"),
    ("a {{if .postgres}}JSON{{else}}TEXT{{end}} b", "a JSON b"),
    ("a {{if .mysql}}`schema`{{else}}schema{{end}} b", "a schema b"),  # not given: false, as a missing key
    ("{{if .sqlite}}x{{else if .postgres}}y{{else}}z{{end}}", "y"),
    ("{{if and (not .plugin) .postgres}}on{{end}}", "on"),
    ("{{if or .mysql .sqlite}}on{{else}}off{{end}}", "off"),
    # A function inside a branch not taken is not run, as Go does not run it.
    ("{{if .mysql}}{{ addColumnIfNeeded \"t\" \"c\" }}{{end}}kept", "kept"),
    # Comments print nothing; trim markers take the white space beside them.
    ("a\n{{- /* a comment */ -}}\n  b", "ab"),
    ("x {{if .postgres -}}\n  y\n{{- end}} z", "x y z"),
])
def test_what_is_rendered(template: str, text: str) -> None:
    assert render(template, GIVEN).text == text


def test_what_is_not_rendered() -> None:
    function = render('a;\n{{ addColumnIfNeeded "blocks" "root_id" "varchar(36)" ""}}', GIVEN)
    assert function.text is None and function.line == 2 and function.why == "a function of the project's own"
    assert function.action == '{{addColumnIfNeeded "blocks" "root_id" "varchar(36)" ""}}'
    condition = render('{{if doesTableExist "blocks_history"}}x{{end}}', GIVEN)
    assert condition.text is None and condition.action == '{{if doesTableExist "blocks_history"}}'
    missing = render("CREATE TABLE {{.schema}}.t (id int);", GIVEN)
    assert missing.text is None and missing.why == "no value for .schema" and missing.names == ("schema",)
    assert render("{{if .postgres}}x", GIVEN).why == "an `if` without its `end`"
