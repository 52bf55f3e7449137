"""The projects the benchmark checks, as (up, down) SQL pairs, and the layouts it writes them in:
the tool's timestamp layout, dbmate's and sqitch's (so that the runners' own round trip runs the
very same SQL).

- `synthetic`: each migration creates a table, an index, a function, a view and a comment.
- `mixed`: what a real project's history holds, in turn: tables with foreign keys and rows, a
  backfilled column, an enum and a later ADD VALUE (whose rollback rebuilds the type), a trigger
  function, a view, a partitioned table with partitions, and a CREATE INDEX CONCURRENTLY on its
  own (outside a transaction, as each runner needs it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Migration:
    name: str
    up: str
    down: str
    transaction: bool = True  # False: the runner must not wrap it (CONCURRENTLY)


def synthetic(i: int) -> Migration:
    up = f"""
create table item_{i} (
    id bigint generated always as identity primary key,
    owner_id bigint not null,
    name text not null,
    amount numeric(12, 2) not null default 0 check (amount >= 0),
    created_at timestamptz not null default now()
);
create index item_{i}_owner_idx on item_{i} (owner_id, created_at desc);
create function item_{i}_total(p_owner bigint) returns numeric
language sql stable as $$
    select coalesce(sum(amount), 0) from item_{i} where owner_id = p_owner;
$$;
create view item_{i}_recent as
    select id, owner_id, name from item_{i} where created_at > now() - interval '7 days';
comment on table item_{i} is 'synthetic table {i}';
"""
    down = f"""
drop view item_{i}_recent;
drop function item_{i}_total(bigint);
drop table item_{i};
"""
    return Migration(f"create_item_{i}", up, down)


def mixed(i: int) -> Migration:
    """Migration `i` of a project of eight kinds of change; group g = i // 8 has its own objects."""
    g, kind = divmod(i, 8)
    parent = f"account_{g}"
    if kind == 0:
        up = f"""
create table {parent} (
    id bigint generated always as identity primary key,
    email text not null unique,
    created_at timestamptz not null default now()
);
insert into {parent} (email) select 'user' || n || '@example.com' from generate_series(1, 20) n;
create table order_{g} (
    id bigint generated always as identity primary key,
    account_id bigint not null references {parent} (id) on delete cascade,
    total numeric(12, 2) not null default 0
);
create index order_{g}_account_idx on order_{g} (account_id);
insert into order_{g} (account_id, total) select id, id * 10 from {parent};
"""
        return Migration(f"accounts_{g}", up, f"drop table order_{g};\ndrop table {parent};\n")
    if kind == 1:
        up = f"""
alter table {parent} add column display_name text;
update {parent} set display_name = split_part(email, '@', 1);
"""
        return Migration(f"display_name_{g}", up, f"alter table {parent} drop column display_name;\n")
    if kind == 2:
        up = f"""
create type status_{g} as enum ('new', 'paid');
alter table order_{g} add column status status_{g} not null default 'new';
"""
        return Migration(f"order_status_{g}", up, f"alter table order_{g} drop column status;\ndrop type status_{g};\n")
    if kind == 3:
        # An enum value cannot be dropped: the rollback rebuilds the type without it.
        down = f"""
alter table order_{g} alter column status drop default;
alter type status_{g} rename to status_{g}_old;
create type status_{g} as enum ('new', 'paid');
alter table order_{g} alter column status type status_{g} using status::text::status_{g};
alter table order_{g} alter column status set default 'new';
drop type status_{g}_old;
"""
        return Migration(f"status_shipped_{g}", f"alter type status_{g} add value 'shipped';\n", down)
    if kind == 4:
        up = f"""
alter table order_{g} add column updated_at timestamptz not null default now();
create function order_{g}_touch() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end
$$;
create trigger order_{g}_touch before update on order_{g} for each row execute function order_{g}_touch();
"""
        down = f"""
drop trigger order_{g}_touch on order_{g};
drop function order_{g}_touch();
alter table order_{g} drop column updated_at;
"""
        return Migration(f"order_touch_{g}", up, down)
    if kind == 5:
        up = f"""
create view account_{g}_totals as
    select a.id, a.email, coalesce(sum(o.total), 0) as total
    from {parent} a left join order_{g} o on o.account_id = a.id group by a.id, a.email;
"""
        return Migration(f"account_totals_{g}", up, f"drop view account_{g}_totals;\n")
    if kind == 6:
        up = f"""
create table event_{g} (
    id bigint not null,
    at date not null,
    payload jsonb,
    primary key (id, at)
) partition by range (at);
create table event_{g}_2025 partition of event_{g} for values from ('2025-01-01') to ('2026-01-01');
create table event_{g}_2026 partition of event_{g} for values from ('2026-01-01') to ('2027-01-01');
"""
        return Migration(f"events_{g}", up, f"drop table event_{g};\n")
    up = f"create index concurrently order_{g}_total_idx on order_{g} (total);\n"
    return Migration(f"order_total_index_{g}", up, f"drop index concurrently order_{g}_total_idx;\n", transaction=False)


PROJECTS: dict[str, Callable[[int], Migration]] = {"synthetic": synthetic, "mixed": mixed}


def version(i: int) -> str:
    """A 14-digit timestamp per migration, one second apart."""
    return f"2025{(i // 86400) + 1:02d}01{(i // 3600) % 24:02d}{(i // 60) % 60:02d}{i % 60:02d}"


def write_timestamp(root: Path, migrations: list[Migration]) -> Path:
    """migrations/<version>_<name>.sql with <version>_<name>_rollback.sql (the tool's own layout)."""
    directory = root / "migrations"
    directory.mkdir(parents=True)
    for i, migration in enumerate(migrations):
        stem = f"{version(i)}_{migration.name}"
        (directory / f"{stem}.sql").write_text(migration.up)
        (directory / f"{stem}_rollback.sql").write_text(migration.down)
    return root


def write_dbmate(root: Path, migrations: list[Migration]) -> Path:
    """db/migrations/<version>_<name>.sql with -- migrate:up / -- migrate:down sections."""
    directory = root / "db" / "migrations"
    directory.mkdir(parents=True)
    for i, migration in enumerate(migrations):
        options = "" if migration.transaction else " transaction:false"
        (directory / f"{version(i)}_{migration.name}.sql").write_text(
            f"-- migrate:up{options}\n{migration.up}\n-- migrate:down{options}\n{migration.down}")
    return root


def write_sqitch(root: Path, migrations: list[Migration]) -> Path:
    """sqitch.plan with deploy/ and revert/ scripts (sqitch runs each in psql; a script that may run
    in a transaction says BEGIN/COMMIT itself, as sqitch's templates do)."""
    for folder in ("deploy", "revert"):
        (root / folder).mkdir(parents=True)
    (root / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    for i, migration in enumerate(migrations):
        plan.append(f"{migration.name} 2025-01-01T00:00:00Z Bench <bench@example.com> # migration {i}")
        for folder, sql in (("deploy", migration.up), ("revert", migration.down)):
            text = f"BEGIN;\n{sql}\nCOMMIT;\n" if migration.transaction else sql
            (root / folder / f"{migration.name}.sql").write_text(text)
    (root / "sqitch.plan").write_text("\n".join(plan) + "\n")
    return root


def floor_stream(migrations: list[Migration]) -> str:
    """The floor's SQL: every up, down and up again, in order, as one psql session runs it."""
    return "".join(m.up + m.down + m.up for m in migrations)
