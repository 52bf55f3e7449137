drop index concurrently if exists public.profiles_display_name_idx;
alter table public.profiles alter column display_name type text;
alter table public.profiles drop column bio;
