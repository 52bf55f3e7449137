drop index concurrently if exists public.profiles_display_name_idx;
