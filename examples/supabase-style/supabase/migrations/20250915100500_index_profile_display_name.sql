-- The Supabase CLI runs a migration's statements as one batch, in one transaction: CREATE INDEX
-- CONCURRENTLY may only be its first statement, so it has a migration of its own.
create index concurrently if not exists profiles_display_name_idx on public.profiles (display_name);
