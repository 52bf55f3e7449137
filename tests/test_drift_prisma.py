"""--drift-prisma (issue 13): a schema.prisma rendered to SQL by Prisma's own schema engine (its
WebAssembly build, under Node.js), then compared like any declared schema; what Prisma cannot
express (views, comments, extensions) is not drift. CI installs the engine (.ci/run)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

SCHEMA = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique
  nickname  String?
  posts     Post[]
  createdAt DateTime @default(now())
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  author   User   @relation(fields: [authorId], references: [id])
  authorId Int

  @@index([authorId])
}
"""
# What `prisma migrate dev` wrote before `nickname` was added to the schema, plus raw SQL Prisma
# cannot express (a view, a comment).
MIGRATION = """\
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "authorId" INTEGER NOT NULL,
    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE VIEW "PostCount" AS SELECT "authorId", count(*) FROM "Post" GROUP BY 1;
COMMENT ON TABLE "User" IS 'people who write';
"""


def test_the_prisma_schema_is_rendered_by_prisma_and_compared(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path, {"prisma/schema.prisma": SCHEMA, "prisma/migrations/20250101000000_init/migration.sql": MIGRATION})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = root / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--drift-prisma", str(root / "prisma" / "schema.prisma"),
                 "--junit-xml", str(report), "-q", "--no-data"])
    cases = [c for c in ET.parse(report).getroot().iter("testcase") if c.attrib["classname"] == "migration_check.drift"]
    messages = [c.find("failure").attrib["message"] for c in cases if c.find("failure") is not None]  # type: ignore[union-attr]
    assert messages == ['column public."User".nickname: the Prisma schema prisma/schema.prisma has it (text) but no migration'
                        ' creates it']
    assert code == 1


def test_a_missing_engine_is_a_clear_usage_error(pg_server: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path, {"prisma/schema.prisma": SCHEMA, "prisma/migrations/20250101000000_init/migration.sql": MIGRATION})
    monkeypatch.setenv("MIGRATION_CHECK_NODE_MODULES", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(Path(shutil.which("node") or "node").parent))  # node, but no npm root with the engine
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--drift-prisma", str(root / "prisma" / "schema.prisma"), "-q"])
    assert code == 2
    assert "--drift-prisma needs Prisma's schema engine for Node.js: npm install -g @prisma/schema-engine-wasm" in capsys.readouterr().out
