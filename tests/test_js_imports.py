"""Constants a migration imports from the project's own modules are bound to their values, as
JavaScript binds them (ever-gauzy's desktop migrations name every table through `dto/` modules and
an index that re-exports them); a package, a module outside the repository, or a value that is code
stays unknown."""

from __future__ import annotations

from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover
from migration_check.sql.splitter import split_script

UP_DOWN = ("export async function up(knex: Knex): Promise<void> {{\n  await knex.schema.createTable({table}, (t) => {{ t.text({column}); }});\n}}\n"
           "export async function down(knex: Knex): Promise<void> {{\n  await knex.schema.dropTable({table});\n}}\n")


def migration(imports: str, table: str, column: str = "'name'") -> str:
    return f"import {{ Knex }} from 'knex';\n{imports}\n" + UP_DOWN.format(table=table, column=column)


def test_imported_constants_are_bound_through_an_index_and_enums(tmp_path: Path) -> None:
    write_files(tmp_path, {
        ".git/HEAD": "ref: refs/heads/main\n",
        "src/dto/tag.dto.ts": "import { Base } from './base';\nexport interface Tag { name: string }\nexport const TABLE_TAGS = 'tags';\n",
        "src/dto/columns.ts": "export enum Column { Name = 'label', Size = 'size' }\nconst hidden = 'h';\nexport { hidden as HIDDEN };\n",
        "src/dto/index.ts": "export * from './tag.dto';\nexport { Column } from './columns';\nexport * from './missing';\n",
        "src/legacy.js": "module.exports = { LEGACY: 'legacy_' + 'rows' };\n",
        "src/migrations/20240101000000_tags.ts": migration("import { TABLE_TAGS as T, Column } from '../dto';", "T", "Column.Name"),
        "src/migrations/20240102000000_legacy.ts": migration("const { LEGACY } = require('../legacy');", "LEGACY"),
        "src/migrations/20240103000000_hidden.ts": migration("import * as columns from '../dto/columns';", "columns.HIDDEN"),
    })
    tags, legacy, hidden = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(tags.up)] == ['create table "tags" ("label" text)']
    assert [s.sql for s in split_script(legacy.up)] == ['create table "legacy_rows" ("name" text)']
    assert [s.sql for s in split_script(hidden.up)] == ['create table "h" ("name" text)']


def test_packages_outside_modules_and_code_stay_unknown(tmp_path: Path) -> None:
    outside = write_files(tmp_path / "elsewhere", {"tables.ts": "export const SECRET = 'outside';\n"})
    repo = write_files(tmp_path / "repo", {
        ".git/HEAD": "ref: refs/heads/main\n",
        "src/computed.ts": "export const NAME = process.env.TABLE;\n",
        "src/migrations/20240101000000_a.ts": migration("import { TABLES } from '@acme/database';", "TABLES.users"),
        "src/migrations/20240102000000_b.ts": migration("import { SECRET } from '../../../elsewhere/tables';", "SECRET"),
        "src/migrations/20240103000000_c.ts": migration("import { NAME } from '../computed';", "NAME"),
    })
    assert (outside / "tables.ts").is_file()
    found = discover(repo, repo_root=repo).migrations
    assert [m.up for m in found] == [None, None, None]
    assert ["SQL held in" in (m.skip_reason or "") for m in found] == [False, True, True]
    assert "TABLES.users" in (found[0].skip_reason or "")
