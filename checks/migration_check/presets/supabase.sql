-- migration-check setup preset "supabase": what a Supabase project's migrations expect the
-- platform to provide, recreated on plain PostgreSQL (15 or later) so that they replay anywhere.
--
-- Roles are cluster-wide, so they are created only when missing (a shared server may already have
-- them from another run). Everything else lives in the throwaway database and is created fresh.
-- The definitions follow supabase/postgres and supabase/auth (GoTrue); only what migrations
-- commonly reference is here.

-- Roles ---------------------------------------------------------------------------------------
do $roles$
declare
    wanted text[][] := array[
        -- name,                   attributes
        array['anon',                     'nologin noinherit'],
        array['authenticated',            'nologin noinherit'],
        array['service_role',             'nologin noinherit bypassrls'],
        array['authenticator',            'login noinherit'],
        array['supabase_admin',           'nologin'],
        array['supabase_auth_admin',      'nologin noinherit'],
        array['supabase_storage_admin',   'nologin noinherit'],
        array['dashboard_user',           'nologin'],
        array['postgres',                 'nologin']
    ];
    i int;
begin
    for i in 1 .. array_length(wanted, 1) loop
        if not exists (select from pg_catalog.pg_roles where rolname = wanted[i][1]) then
            begin
                execute format('create role %I %s', wanted[i][1], wanted[i][2]);
            exception
                when duplicate_object or unique_violation then
                    null;  -- created meanwhile by a concurrent run on the same server
                when insufficient_privilege then
                    -- A managed server's CREATEROLE user may not give BYPASSRLS: the role without it.
                    execute format('create role %I %s', wanted[i][1], replace(wanted[i][2], 'bypassrls', ''));
            end;
        end if;
    end loop;
end
$roles$;

-- PostgREST switches from authenticator to these roles.
do $grants$
begin
    execute 'grant anon, authenticated, service_role to authenticator';
exception when others then
    null;  -- already granted, or not allowed for this user: harmless for a replay
end
$grants$;

-- Schemas -------------------------------------------------------------------------------------
create schema if not exists extensions;
create schema if not exists auth;
create schema if not exists storage;

grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema storage to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;

-- Extensions Supabase preinstalls in the extensions schema, where this server has them.
do $extensions$
declare
    wanted text;
begin
    foreach wanted in array array['pgcrypto', 'uuid-ossp'] loop
        if exists (select from pg_catalog.pg_available_extensions a where a.name = wanted)
           and not exists (select from pg_catalog.pg_extension e where e.extname = wanted) then
            execute format('create extension %I with schema extensions', wanted);
        end if;
    end loop;
end
$extensions$;

-- Without contrib (some minimal builds), the two functions migrations use most from those
-- extensions, on core PostgreSQL, so that `extensions.gen_random_uuid()` still works.
do $shims$
declare
    wanted text;
begin
    foreach wanted in array array['gen_random_uuid', 'uuid_generate_v4'] loop
        if not exists (select from pg_catalog.pg_proc p
                       where p.proname = wanted and p.pronamespace = 'extensions'::regnamespace) then
            execute format('create function extensions.%I() returns uuid language sql volatile'
                           ' as $f$ select pg_catalog.gen_random_uuid() $f$', wanted);
        end if;
    end loop;
end
$shims$;

-- auth ----------------------------------------------------------------------------------------
create table if not exists auth.users (
    instance_id uuid,
    id uuid primary key default gen_random_uuid(),
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text unique default null,
    phone_confirmed_at timestamptz,
    phone_change text default '',
    phone_change_token varchar(255) default '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    email_change_token_current varchar(255) default '',
    email_change_confirm_status smallint default 0 check (email_change_confirm_status between 0 and 2),
    banned_until timestamptz,
    reauthentication_token varchar(255) default '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean not null default false,
    deleted_at timestamptz,
    is_anonymous boolean not null default false
);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create unique index if not exists users_email_partial_key on auth.users (email) where is_sso_user = false;
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';

-- The JWT claims of the current request, as PostgREST sets them (request.jwt.claims), with the
-- older one-setting-per-claim form (request.jwt.claim.sub) as a fallback, like Supabase's own.
create or replace function auth.jwt() returns jsonb
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

-- auth.uid(), auth.role(), auth.email(): one claim each, read the same way.
do $claims$
declare
    claim record;
begin
    for claim in select * from (values ('uid', 'sub', 'uuid'), ('role', 'role', 'text'), ('email', 'email', 'text'))
                            as c (function_name, claim_key, result_type) loop
        execute format($sql$
            create or replace function auth.%1$I() returns %3$s
            language sql stable
            as $body$
                select coalesce(
                    nullif(current_setting('request.jwt.claim.%2$s', true), ''),
                    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> %2$L)
                )::%3$s
            $body$
        $sql$, claim.function_name, claim.claim_key, claim.result_type);
    end loop;
end
$claims$;

grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.email() to anon, authenticated, service_role;

-- storage -------------------------------------------------------------------------------------
create table if not exists storage.buckets (
    id text primary key,
    name text not null,
    owner uuid,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    public boolean default false,
    avif_autodetection boolean default false,
    file_size_limit bigint,
    allowed_mime_types text[],
    owner_id text
);
create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
    id uuid primary key default gen_random_uuid(),
    bucket_id text references storage.buckets (id),
    name text,
    owner uuid,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    last_accessed_at timestamptz default now(),
    metadata jsonb,
    path_tokens text[] generated always as (string_to_array(name, '/')) stored,
    version text,
    owner_id text,
    user_metadata jsonb
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);
alter table storage.objects enable row level security;

-- Helpers storage policies use: storage.foldername(name)[1] = auth.uid()::text
create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
as $$
declare
    _parts text[];
begin
    select string_to_array(name, '/') into _parts;
    return _parts[1 : array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
as $$
declare
    _parts text[];
begin
    select string_to_array(name, '/') into _parts;
    return _parts[array_length(_parts, 1)];
end
$$;

create or replace function storage.extension(name text) returns text
language plpgsql immutable
as $$
declare
    _parts text[];
    _filename text;
begin
    select string_to_array(name, '/') into _parts;
    select _parts[array_length(_parts, 1)] into _filename;
    return reverse(split_part(reverse(_filename), '.', 1));
end
$$;

grant all on storage.buckets, storage.objects to anon, authenticated, service_role;

-- Realtime: the publication Supabase creates empty, to which migrations add their tables
-- (`alter publication supabase_realtime add table ...`).
create publication supabase_realtime;

-- What Supabase grants on the public schema, so RLS policies are what decides access.
grant all on all tables in schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

-- The search_path Supabase sets on its database and on its API roles, so that every session finds
-- the extensions' functions (gen_random_uuid(), uuid_generate_v4(), crypt(), ...) unqualified. The
-- replay reconnects after the setup, so the migrations' sessions start with it.
do $search_path$
declare
    role_name text;
begin
    execute format('alter database %I set search_path = "$user", public, extensions', current_database());
    foreach role_name in array array['anon', 'authenticated', 'service_role'] loop
        begin
            execute format('alter role %I set search_path = "$user", public, extensions', role_name);
        exception when insufficient_privilege then
            null;  -- a shared server's roles that this user may not alter: the database setting still applies
        end;
    end loop;
end
$search_path$;
