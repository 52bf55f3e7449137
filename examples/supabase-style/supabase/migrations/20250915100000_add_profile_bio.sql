set lock_timeout = '2s';
alter table public.profiles add column bio text;
-- text to varchar(100) rewrites the table (the locks check observes it); profiles is small.
-- migration-check: allow table-rewrite,change-column-type "profiles holds a few thousand rows: the copy takes milliseconds"
alter table public.profiles alter column display_name type varchar(100);
