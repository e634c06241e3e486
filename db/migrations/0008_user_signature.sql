-- A person's email signature: plain text added under a "-- " line when they
-- compose. Its own table, so a person without one has no row and the users
-- table stays what authentication reads.
create table user_signatures (
  user_id uuid primary key references users (id) on delete cascade,
  body text not null check (length(body) <= 10000),
  updated_at timestamptz not null default now()
);
