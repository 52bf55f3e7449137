create table orders (
    id bigserial primary key,
    user_id bigint not null references users (id),
    total numeric(12, 2) not null check (total >= 0)
);
