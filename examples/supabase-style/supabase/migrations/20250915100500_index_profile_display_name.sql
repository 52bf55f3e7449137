-- Built CONCURRENTLY, so that writes to profiles go on while it builds, in a migration of its
-- own: a build that fails (an INVALID index) is then the only thing to retry.
create index concurrently if not exists profiles_display_name_idx on public.profiles (display_name);
