create table users (
    id bigserial primary key,
    email text not null unique,
    phone text
);
