-- Profiles hold what users show of themselves.
create table public.profiles (
    id bigint generated always as identity primary key,
    username text not null unique,
    display_name text,
    created_at timestamptz not null default now(),
    constraint username_length check (char_length(username) between 3 and 32)
);

comment on table public.profiles is 'Public profile of each user';
