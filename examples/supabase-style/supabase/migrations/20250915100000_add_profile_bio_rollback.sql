alter table public.profiles alter column display_name type text;
alter table public.profiles drop column bio;
