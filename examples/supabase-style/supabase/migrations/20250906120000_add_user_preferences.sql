create type public.theme as enum ('light', 'dark', 'system');

create table public.user_preferences (
    profile_id bigint primary key references public.profiles (id) on delete cascade,
    theme public.theme not null default 'system',
    settings jsonb not null default '{}'::jsonb,
    updated_at timestamptz not null default now()
);

create index user_preferences_settings_gin on public.user_preferences using gin (settings);

-- Keep updated_at honest; the body holds semicolons inside $$ quotes.
create function public.touch_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create trigger user_preferences_touch
    before update on public.user_preferences
    for each row execute function public.touch_updated_at();
