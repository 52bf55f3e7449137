alter table users add column preferences jsonb not null default '{}';
create index users_email_lower_idx on users (lower(email));
alter table users alter column phone type varchar(64);
