-- Activity is partitioned by month; the view shows the last day.
create table public.activity_log (
    id bigint generated always as identity,
    profile_id bigint not null references public.profiles (id),
    action text not null,
    happened_at timestamptz not null,
    primary key (id, happened_at)
) partition by range (happened_at);

create table public.activity_log_2025_09 partition of public.activity_log
    for values from ('2025-09-01') to ('2025-10-01');
create table public.activity_log_2025_10 partition of public.activity_log
    for values from ('2025-10-01') to ('2025-11-01');

create view public.recent_activity as
    select profile_id, action, happened_at
    from public.activity_log
    where happened_at > now() - interval '1 day';
