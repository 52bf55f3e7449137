-- Forgets the index, and leaves phone as varchar(64) instead of text.
alter table users drop column preferences;
