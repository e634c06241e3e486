-- The sync engine: canonical editable thread fields (last writer wins by
-- HLC), the log of every field write a person sent, and each person's
-- document as a snapshot plus a tail of updates.

-- Shared thread fields (assignee, status, snoozeUntil, labels), one row per
-- field; personal ones (read) keyed by person too. `hlc` decides: a write
-- lands only when its stamp is greater than the stored one.
create table thread_fields (
  thread_id uuid not null references threads (id) on delete cascade,
  field text not null check (field in ('assignee', 'status', 'snoozeUntil', 'labels')),
  value jsonb not null,
  hlc text not null,
  actor_id uuid references users (id) on delete set null,
  updated_at timestamptz not null default now(),
  primary key (thread_id, field)
);

create table thread_user_fields (
  thread_id uuid not null references threads (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  field text not null check (field in ('read')),
  value jsonb not null,
  hlc text not null,
  updated_at timestamptz not null default now(),
  primary key (thread_id, user_id, field)
);
create index thread_user_fields_user_idx on thread_user_fields (user_id);

-- Every editable write a person's document carried, once: the same write
-- replayed (reconnect, retry) finds its row and changes nothing.
create table sync_writes (
  user_id uuid not null references users (id) on delete cascade,
  key text not null,
  hlc text not null,
  value jsonb,
  outcome text not null check (outcome in ('applied', 'lost', 'refused')),
  reason text,
  created_at timestamptz not null default now(),
  primary key (user_id, key, hlc)
);

-- A person's document: snapshot + tail. `epoch` changes when the server
-- rebuilds the document from canonical state; clients then reset.
create table sync_docs (
  user_id uuid primary key references users (id) on delete cascade,
  epoch text not null,
  snapshot bytea,
  snapshot_seq bigint not null default 0,
  updated_at timestamptz not null default now()
);

create table sync_doc_updates (
  user_id uuid not null references sync_docs (user_id) on delete cascade,
  seq bigint not null,
  update bytea not null,
  created_at timestamptz not null default now(),
  primary key (user_id, seq)
);
