-- CRM records, record access, email sharing scopes and conversion rules.
-- Who may see which message is decided by sync/visibility.ts and, for SQL,
-- by db/queries/visibility.ts; both read only the tables below plus users,
-- groups, mail_accounts and message_participants.

-- Public: everyone in the organization can access every record. Private:
-- the owner, everyone above the owner, and explicit shares.
alter table organizations add column record_access text not null default 'public'
  check (record_access in ('public', 'private'));

create table records (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  type text not null check (type in ('lead', 'contact', 'account', 'deal')),
  owner_id uuid not null references users (id),
  name text not null check (length(name) between 1 and 200),
  company text not null default '' check (length(company) <= 200),
  -- ISO 3166-1 alpha-2, upper case
  country text check (country ~ '^[A-Z]{2}$'),
  stage text check (stage in ('open', 'won', 'lost')),
  -- contact → its account; deal → its account
  account_id uuid references records (id) on delete set null,
  source text not null default 'manual' check (source in ('manual', 'import', 'conversion', 'rule')),
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((type = 'deal') = (stage is not null)),
  check (account_id is null or type in ('contact', 'deal')),
  check (account_id is distinct from id)
);
create index records_org_type_idx on records (org_id, type, lower(name));
create index records_owner_idx on records (owner_id);
create index records_account_idx on records (account_id);

-- A deal's contacts.
create table deal_contacts (
  deal_id uuid not null references records (id) on delete cascade,
  contact_id uuid not null references records (id) on delete cascade,
  primary key (deal_id, contact_id)
);
create index deal_contacts_contact_idx on deal_contacts (contact_id);

-- record_emails (created with the mailboxes) now points at real records.
delete from record_emails;
alter table record_emails add constraint record_emails_record_fk
  foreign key (record_id) references records (id) on delete cascade;
-- One address belongs to at most one lead or contact per organization.
create unique index record_emails_person_key on record_emails (org_id, address)
  where record_type in ('lead', 'contact');
create unique index record_emails_primary_key on record_emails (record_id) where is_primary;
create index record_emails_record_idx on record_emails (record_id);

-- Explicit record shares (count under Private record access).
create table record_shares (
  record_id uuid not null references records (id) on delete cascade,
  user_id uuid references users (id) on delete cascade,
  group_id uuid references groups (id) on delete cascade,
  check ((user_id is null) <> (group_id is null))
);
create unique index record_shares_user_key on record_shares (record_id, user_id) where user_id is not null;
create unique index record_shares_group_key on record_shares (record_id, group_id) where group_id is not null;
create index record_shares_user_idx on record_shares (user_id);

-- Each mailbox owner's email sharing. No row means the default (custom).
create table email_sharing (
  user_id uuid primary key references users (id) on delete cascade,
  org_id uuid not null references organizations (id) on delete cascade,
  mode text not null default 'custom' check (mode in ('private', 'custom', 'public')),
  excluded_domains text[] not null default '{}' check (cardinality(excluded_domains) <= 5),
  -- Share (Custom or Public) with the audience below instead of everyone with record access.
  restricted boolean not null default false,
  -- Set by an admin: the person cannot change their own setting.
  locked boolean not null default false,
  updated_by uuid references users (id) on delete set null,
  updated_at timestamptz not null default now()
);
create index email_sharing_org_idx on email_sharing (org_id);

create table email_sharing_audience (
  owner_id uuid not null references email_sharing (user_id) on delete cascade,
  user_id uuid references users (id) on delete cascade,
  group_id uuid references groups (id) on delete cascade,
  check ((user_id is null) <> (group_id is null))
);
create unique index email_sharing_audience_user_key on email_sharing_audience (owner_id, user_id) where user_id is not null;
create unique index email_sharing_audience_group_key on email_sharing_audience (owner_id, group_id) where group_id is not null;

-- Custom mode: "share emails" per owner per record. Last writer wins by HLC,
-- so offline flips from several devices settle deterministically.
create table email_share_flags (
  owner_id uuid not null references users (id) on delete cascade,
  record_id uuid not null references records (id) on delete cascade,
  shared boolean not null,
  hlc text not null,
  updated_at timestamptz not null default now(),
  primary key (owner_id, record_id)
);
create index email_share_flags_record_idx on email_share_flags (record_id);

-- A message's other parties: every participant but the mailbox's own
-- addresses. Their domains decide excluded-domain sharing; their addresses
-- link the message to records.
create view message_other_parties as
select distinct p.message_id, p.address, split_part(p.address, '@', 2) as domain
from message_participants p
join messages m on m.id = p.message_id
join mail_accounts a on a.id = m.account_id
where p.address <> a.email and not exists (
  select 1 from mail_account_addresses own where own.account_id = m.account_id and own.address = p.address
);

-- Messages ↔ records, derived on every read, so a record gaining or losing
-- an address re-links existing mail at once. A mailbox's own addresses never
-- link (a rep listed as a contact would otherwise make all of their mail
-- about that contact).
create view message_record_links as
select distinct o.message_id, re.record_id
from message_other_parties o
join messages m on m.id = o.message_id
join record_emails re on re.org_id = m.org_id and re.address = o.address;

-- Conversion rules: ordered, may be disabled, count their firings.
create table conversion_rules (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  name text not null check (length(name) between 1 and 120),
  position integer not null,
  enabled boolean not null default true,
  record_type text not null check (record_type in ('lead', 'contact')),
  -- {senderDomains?, subjectContains?, bodyContains?, recipientAddresses?, accountIds?}
  criteria jsonb not null default '{}',
  -- {kind: 'person', userId} | {kind: 'round_robin', roleOrGroup} | {kind: 'country', map, fallbackUserId}
  owner_strategy jsonb not null,
  round_robin_cursor integer not null default 0,
  fired_count integer not null default 0,
  last_fired_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index conversion_rules_org_idx on conversion_rules (org_id, position);
