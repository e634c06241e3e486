-- Organizations, people, sessions, invites, groups and login throttling.

create table organizations (
  id uuid primary key,
  name text not null check (length(name) between 1 and 120),
  created_at timestamptz not null default now()
);

create table users (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  email text not null check (email = lower(email)),
  name text not null check (length(name) between 1 and 120),
  password_hash text not null,
  role text not null check (role in ('admin', 'manager', 'rep')),
  manager_id uuid references users (id) on delete set null,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (manager_id is distinct from id)
);
create unique index users_email_key on users (email);
create index users_org_idx on users (org_id);
create index users_manager_idx on users (manager_id);

-- Only SHA-256 of each token's secret is stored (Lucia guide): a dump of this
-- table cannot be replayed as cookies.
create table sessions (
  id text primary key,
  secret_hash bytea not null,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_verified_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index sessions_user_idx on sessions (user_id);
create index sessions_expiry_idx on sessions (expires_at);

create table invites (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  email text not null check (email = lower(email)),
  role text not null check (role in ('admin', 'manager', 'rep')),
  manager_id uuid references users (id) on delete set null,
  token_hash bytea not null,
  invited_by uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  revoked_at timestamptz
);
create unique index invites_token_key on invites (token_hash);
create index invites_org_idx on invites (org_id);

create table groups (
  id uuid primary key,
  org_id uuid not null references organizations (id) on delete cascade,
  name text not null check (length(name) between 1 and 80),
  created_at timestamptz not null default now()
);
create unique index groups_org_name_key on groups (org_id, lower(name));

create table group_members (
  group_id uuid not null references groups (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  primary key (group_id, user_id)
);
create index group_members_user_idx on group_members (user_id);

-- Failed-login state lives here, not in memory, so back-off holds across processes.
create table login_throttle (
  key text primary key,
  failures integer not null default 0,
  locked_until timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
