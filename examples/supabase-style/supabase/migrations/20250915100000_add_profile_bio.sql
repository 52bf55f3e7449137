alter table public.profiles add column bio text;
alter table public.profiles alter column display_name type varchar(100);
create index concurrently if not exists profiles_display_name_idx on public.profiles (display_name);
