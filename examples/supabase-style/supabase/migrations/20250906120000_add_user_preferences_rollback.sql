drop trigger user_preferences_touch on public.user_preferences;
drop function public.touch_updated_at();
drop table public.user_preferences;
drop type public.theme;
