-- Mailboxes: accounts, folders, exactly-once message storage, threading,
-- record matching hook, outbound mail and notifications.

-- One connected mailbox. Secrets are never stored in the clear: each account
-- has its own data key (DEK), wrapped by a key-encryption key from the
-- environment; passwords/tokens are sealed with the DEK, with
-- "<account id>|<column>" as additional authenticated data.
create table mail_accounts (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  owner_id uuid not null references users (id) on delete cascade,
  label text not null check (length(label) between 1 and 120),
  email text not null check (email = lower(email)),
  provider text not null,
  imap_host text not null,
  imap_port integer not null check (imap_port between 1 and 65535),
  imap_security text not null check (imap_security in ('tls', 'starttls', 'none')),
  imap_user text not null,
  smtp_host text not null,
  smtp_port integer not null check (smtp_port between 1 and 65535),
  smtp_security text not null check (smtp_security in ('tls', 'starttls', 'none')),
  smtp_user text not null,
  auth_kind text not null check (auth_kind in ('password', 'oauth2')),
  wrapped_dek text not null,
  imap_secret text not null,
  -- null: outgoing uses the incoming credentials
  smtp_secret text,
  store_sent boolean not null default true,
  status text not null default 'pending'
    check (status in ('pending', 'syncing', 'idle', 'error', 'disabled')),
  health_code text,
  health_message text,
  health_at timestamptz,
  sync_done integer not null default 0,
  sync_total integer not null default 0,
  initial_sync_completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index mail_accounts_org_idx on mail_accounts (org_id);
create index mail_accounts_owner_idx on mail_accounts (owner_id);
create unique index mail_accounts_owner_email_key on mail_accounts (owner_id, email);

-- From addresses an account may send as (the primary address is one of them).
create table mail_account_addresses (
  account_id uuid not null references mail_accounts (id) on delete cascade,
  address text not null check (address = lower(address)),
  display_name text,
  is_default boolean not null default false,
  created_at timestamptz not null default now(),
  primary key (account_id, address)
);

-- Per-folder sync state. UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ are 32/63-bit
-- unsigned on the wire; they are int8 here (modseq fits below 2^63).
create table mail_folders (
  id uuid primary key,
  account_id uuid not null references mail_accounts (id) on delete cascade,
  path text not null,
  delimiter text,
  role text not null default 'other'
    check (role in ('inbox', 'sent', 'archive', 'drafts', 'trash', 'junk', 'all', 'other')),
  uidvalidity bigint,
  uidnext bigint,
  highest_modseq bigint,
  -- Newest-first backfill: every UID >= backfill_low_uid has been stored.
  backfill_low_uid bigint,
  backfill_done boolean not null default false,
  message_count integer not null default 0,
  last_sync_at timestamptz,
  last_full_sync_at timestamptz,
  selectable boolean not null default true,
  created_at timestamptz not null default now(),
  unique (account_id, path)
);

-- A conversation. Threads are per organization: a customer's reply to two
-- reps lands in one conversation; visibility is still decided per message.
create table threads (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  subject text not null default '',
  normalized_subject text not null default '',
  first_message_at timestamptz,
  last_message_at timestamptz,
  message_count integer not null default 0,
  merged_into uuid references threads (id) on delete set null,
  created_at timestamptz not null default now()
);
create index threads_org_last_idx on threads (org_id, last_message_at desc);
create index threads_org_subject_idx on threads (org_id, normalized_subject);

-- One logical message per account, however many folders hold it. message_key
-- is the stable identity: EMAILID/X-GM-MSGID when the server has one, else
-- the Message-ID header, else a hash of the raw bytes.
create table messages (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  account_id uuid not null references mail_accounts (id) on delete cascade,
  thread_id uuid not null references threads (id),
  message_key text not null,
  header_message_id text,
  in_reply_to text,
  "references" text[] not null default '{}',
  subject text not null default '',
  from_address text,
  from_name text,
  to_addresses jsonb not null default '[]',
  cc_addresses jsonb not null default '[]',
  bcc_addresses jsonb not null default '[]',
  reply_to jsonb not null default '[]',
  sent_at timestamptz,
  received_at timestamptz not null,
  snippet text not null default '',
  text_body text,
  html_body text,
  headers jsonb not null default '{}',
  attachments jsonb not null default '[]',
  size integer not null default 0,
  raw_sha256 bytea not null,
  email_id text,
  gm_thread_id text,
  seen boolean not null default false,
  flags text[] not null default '{}',
  direction text not null default 'inbound' check (direction in ('inbound', 'outbound')),
  sent_from_shoal boolean not null default false,
  -- Set when the last location was expunged. A move is an expunge plus an
  -- append, so the row waits here to be relinked instead of being deleted.
  orphaned_at timestamptz,
  created_at timestamptz not null default now(),
  unique (account_id, message_key)
);
create index messages_thread_idx on messages (thread_id, received_at);
create index messages_org_received_idx on messages (org_id, received_at desc);
create index messages_header_id_idx on messages (org_id, header_message_id);

-- Raw RFC 822 kept apart from the hot row.
create table message_raw (
  message_id uuid primary key references messages (id) on delete cascade,
  raw bytea not null
);

-- Where a message sits on the server. Exactly-once: one row per
-- (folder, uidvalidity, uid); the folder fixes the account.
create table message_locations (
  folder_id uuid not null references mail_folders (id) on delete cascade,
  uidvalidity bigint not null,
  uid bigint not null,
  message_id uuid not null references messages (id) on delete cascade,
  modseq bigint,
  flags text[] not null default '{}',
  created_at timestamptz not null default now(),
  primary key (folder_id, uidvalidity, uid)
);
create index message_locations_message_idx on message_locations (message_id);

-- Messages that could not be parsed: kept with the reason, never retried silently.
create table message_quarantine (
  id uuid primary key,
  account_id uuid not null references mail_accounts (id) on delete cascade,
  folder_id uuid not null references mail_folders (id) on delete cascade,
  uidvalidity bigint not null,
  uid bigint not null,
  reason text not null,
  raw bytea,
  created_at timestamptz not null default now(),
  unique (folder_id, uidvalidity, uid)
);

-- Per-organization Message-ID table; thread_id with message_id null is a
-- phantom (referenced, not yet seen).
create table org_message_ids (
  org_id uuid not null references organizations (id) on delete cascade,
  header_message_id text not null,
  thread_id uuid not null references threads (id) on delete cascade,
  message_id uuid references messages (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (org_id, header_message_id)
);
create index org_message_ids_thread_idx on org_message_ids (thread_id);

-- Why each message is in its thread (for "why is this in this thread?" and undo).
create table thread_decisions (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  message_id uuid not null references messages (id) on delete cascade,
  thread_id uuid not null references threads (id) on delete cascade,
  reason text not null
    check (reason in ('own_message_id', 'in_reply_to', 'references', 'gm_thread_id', 'subject', 'new_thread', 'merged')),
  detail jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index thread_decisions_message_idx on thread_decisions (message_id);

-- Every participant address of a message, normalized, for record matching.
create table message_participants (
  message_id uuid not null references messages (id) on delete cascade,
  address text not null check (address = lower(address)),
  role text not null check (role in ('from', 'to', 'cc', 'bcc', 'reply_to')),
  primary key (message_id, address, role)
);
create index message_participants_address_idx on message_participants (address);

-- CRM record addresses (the records milestone fills this; matching reads it now).
create table record_emails (
  org_id uuid not null references organizations (id) on delete cascade,
  address text not null check (address = lower(address)),
  record_type text not null check (record_type in ('lead', 'contact', 'account', 'deal')),
  record_id uuid not null,
  is_primary boolean not null default false,
  primary key (org_id, address, record_type, record_id)
);
create index record_emails_lookup_idx on record_emails (org_id, address);

-- Mail composed in Shoal. The id is the client's idempotency key, so a retry
-- of the same send finds the row instead of sending again.
create table outbound_messages (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  account_id uuid not null references mail_accounts (id) on delete cascade,
  author_id uuid not null references users (id) on delete cascade,
  thread_id uuid references threads (id) on delete set null,
  header_message_id text not null,
  status text not null default 'queued' check (status in ('queued', 'sending', 'sent', 'failed')),
  raw bytea not null,
  error text,
  attempts integer not null default 0,
  sent_at timestamptz,
  appended_at timestamptz,
  created_at timestamptz not null default now()
);
create index outbound_messages_status_idx on outbound_messages (status, created_at);

create table notifications (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  kind text not null,
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  read_at timestamptz
);
create index notifications_user_idx on notifications (user_id, created_at desc);

-- Fixed-window rate limits shared by every process (mail server probes, …).
create table rate_limits (
  key text primary key,
  window_start timestamptz not null,
  count integer not null
);
