drop view public.recent_activity;
drop table public.activity_log;
