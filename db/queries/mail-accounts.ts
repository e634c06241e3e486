/**
 * @module db/queries/mail-accounts
 * Connected mailboxes. Secret columns travel only through the functions that
 * name them (`findAccountSecrets`); list/detail rows never carry them.
 */
import type { Queryable } from '../types';

type Security = 'tls' | 'starttls' | 'none';

export interface MailAccountRow {
  id: string;
  orgId: string;
  ownerId: string;
  label: string;
  email: string;
  provider: string;
  imapHost: string;
  imapPort: number;
  imapSecurity: Security;
  imapUser: string;
  smtpHost: string;
  smtpPort: number;
  smtpSecurity: Security;
  smtpUser: string;
  authKind: 'password' | 'oauth2';
  smtpSameCredentials: boolean;
  storeSent: boolean;
  status: 'pending' | 'syncing' | 'idle' | 'error' | 'disabled';
  healthCode: string | null;
  healthMessage: string | null;
  healthHint: string | null;
  /** Since when the current status and code hold. */
  healthAt: Date | null;
  /** When the worker last checked the account (every pass, watchdog NOOP and failure). */
  healthCheckedAt: Date | null;
  syncDone: number;
  syncTotal: number;
  initialSyncCompletedAt: Date | null;
  createdAt: Date;
  fromAddresses: { address: string; name: string | null; isDefault: boolean }[];
}

const COLUMNS = `a.id, a.org_id as "orgId", a.owner_id as "ownerId", a.label, a.email, a.provider,
  a.imap_host as "imapHost", a.imap_port as "imapPort", a.imap_security as "imapSecurity", a.imap_user as "imapUser",
  a.smtp_host as "smtpHost", a.smtp_port as "smtpPort", a.smtp_security as "smtpSecurity", a.smtp_user as "smtpUser",
  a.auth_kind as "authKind", (a.smtp_secret is null) as "smtpSameCredentials", a.store_sent as "storeSent",
  a.status, a.health_code as "healthCode", a.health_message as "healthMessage",
  a.health_hint as "healthHint", a.health_at as "healthAt", a.health_checked_at as "healthCheckedAt",
  a.sync_done as "syncDone", a.sync_total as "syncTotal",
  a.initial_sync_completed_at as "initialSyncCompletedAt", a.created_at as "createdAt",
  coalesce((select json_agg(json_build_object('address', f.address, 'name', f.display_name, 'isDefault', f.is_default)
    order by f.is_default desc, f.address) from mail_account_addresses f where f.account_id = a.id), '[]') as "fromAddresses"`;

export interface NewMailAccount {
  id: string;
  orgId: string;
  ownerId: string;
  label: string;
  email: string;
  provider: string;
  imapHost: string;
  imapPort: number;
  imapSecurity: Security;
  imapUser: string;
  smtpHost: string;
  smtpPort: number;
  smtpSecurity: Security;
  smtpUser: string;
  authKind: 'password' | 'oauth2';
  wrappedDek: string;
  imapSecret: string;
  smtpSecret: string | null;
  storeSent: boolean;
}

/** Inserts an account. The (owner, email) unique index raises 23505 for a second copy. */
export async function insertMailAccount(q: Queryable, a: NewMailAccount): Promise<void> {
  await q.query(
    `insert into mail_accounts (id, org_id, owner_id, label, email, provider, imap_host, imap_port, imap_security,
       imap_user, smtp_host, smtp_port, smtp_security, smtp_user, auth_kind, wrapped_dek, imap_secret, smtp_secret, store_sent)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [
      a.id, a.orgId, a.ownerId, a.label, a.email, a.provider, a.imapHost, a.imapPort, a.imapSecurity, a.imapUser,
      a.smtpHost, a.smtpPort, a.smtpSecurity, a.smtpUser, a.authKind, a.wrappedDek, a.imapSecret, a.smtpSecret, a.storeSent,
    ],
  );
}

/** Replaces an account's From addresses. */
export async function replaceFromAddresses(
  q: Queryable,
  accountId: string,
  addresses: { address: string; name: string | null; isDefault: boolean }[],
): Promise<void> {
  await q.query('delete from mail_account_addresses where account_id = $1', [accountId]);
  for (const a of addresses) {
    await q.query(
      'insert into mail_account_addresses (account_id, address, display_name, is_default) values ($1, $2, $3, $4)',
      [accountId, a.address, a.name, a.isDefault],
    );
  }
}

/** Lists the accounts a person owns. */
export async function listAccountsOfOwner(q: Queryable, ownerId: string): Promise<MailAccountRow[]> {
  return q.query<MailAccountRow>(`select ${COLUMNS} from mail_accounts a where a.owner_id = $1 order by a.created_at`, [
    ownerId,
  ]);
}

/** Lists every account of an organization (sync health for admins). */
export async function listAccountsOfOrg(q: Queryable, orgId: string): Promise<MailAccountRow[]> {
  return q.query<MailAccountRow>(`select ${COLUMNS} from mail_accounts a where a.org_id = $1 order by a.created_at`, [
    orgId,
  ]);
}

/** Finds an account of an organization. */
export async function findMailAccount(q: Queryable, orgId: string, id: string): Promise<MailAccountRow | null> {
  const rows = await q.query<MailAccountRow>(`select ${COLUMNS} from mail_accounts a where a.org_id = $1 and a.id = $2`, [
    orgId,
    id,
  ]);
  return rows[0] ?? null;
}

/** Finds an account by id alone, for background work that has no organization in hand (sync, notifications). */
export async function findMailAccountById(q: Queryable, id: string): Promise<MailAccountRow | null> {
  const rows = await q.query<MailAccountRow>(`select ${COLUMNS} from mail_accounts a where a.id = $1`, [id]);
  return rows[0] ?? null;
}

export interface AccountSecretColumns {
  wrappedDek: string;
  imapSecret: string;
  smtpSecret: string | null;
}

/** Reads an account's sealed credentials (to open them with the keyring). */
export async function findAccountSecrets(q: Queryable, id: string): Promise<AccountSecretColumns | null> {
  const rows = await q.query<AccountSecretColumns>(
    `select wrapped_dek as "wrappedDek", imap_secret as "imapSecret", smtp_secret as "smtpSecret"
     from mail_accounts where id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export interface AccountHealth {
  status: MailAccountRow['status'];
  code: string | null;
  message: string | null;
  hint: string | null;
  at: Date;
}

/**
 * Records a check's outcome: status, code, message and hint. `health_at`
 * only moves when the status or code changes (the right-hand side reads
 * the row as it was), `health_checked_at` on every call.
 */
export async function setAccountHealth(q: Queryable, id: string, health: AccountHealth): Promise<void> {
  await q.query(
    `update mail_accounts set
       health_at = case when status is distinct from $2 or health_code is distinct from $3 or health_at is null
         then $6 else health_at end,
       status = $2, health_code = $3, health_message = $4, health_hint = $5, health_checked_at = $6, updated_at = now()
     where id = $1`,
    [id, health.status, health.code, health.message, health.hint, health.at],
  );
}

/** Records a check that found nothing new: the account is as healthy as it was. */
export async function recordHealthCheck(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query('update mail_accounts set health_checked_at = $2 where id = $1', [id, at]);
}

/** New values for an account's settings; only the given fields change. */
export interface MailAccountPatch {
  label?: string;
  imapHost?: string;
  imapPort?: number;
  imapSecurity?: Security;
  imapUser?: string;
  smtpHost?: string;
  smtpPort?: number;
  smtpSecurity?: Security;
  smtpUser?: string;
  authKind?: 'password' | 'oauth2';
  /** Sealed with the account's data key. */
  imapSecret?: string;
  /** Sealed; null: outgoing uses the incoming credentials. */
  smtpSecret?: string | null;
  storeSent?: boolean;
  /** Back to `pending` with a clean health line (new incoming settings, not yet tried by the worker). */
  resetHealth?: Date;
}

const PATCH_COLUMNS: Record<Exclude<keyof MailAccountPatch, 'resetHealth'>, string> = {
  label: 'label',
  imapHost: 'imap_host',
  imapPort: 'imap_port',
  imapSecurity: 'imap_security',
  imapUser: 'imap_user',
  smtpHost: 'smtp_host',
  smtpPort: 'smtp_port',
  smtpSecurity: 'smtp_security',
  smtpUser: 'smtp_user',
  authKind: 'auth_kind',
  imapSecret: 'imap_secret',
  smtpSecret: 'smtp_secret',
  storeSent: 'store_sent',
};

/** Updates an account's settings. @returns false when no such account exists in the organization. */
export async function updateMailAccount(q: Queryable, orgId: string, id: string, patch: MailAccountPatch): Promise<boolean> {
  const sets = ['updated_at = now()'];
  const params: unknown[] = [orgId, id];
  for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
    const value = patch[key as keyof typeof PATCH_COLUMNS];
    if (value !== undefined) {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
  }
  if (patch.resetHealth) {
    params.push(patch.resetHealth);
    sets.push(
      `status = case when status = 'disabled' then status else 'pending' end`,
      `health_code = null, health_message = null, health_hint = null, health_at = $${params.length}`,
    );
  }
  const rows = await q.query<{ id: string }>(
    `update mail_accounts set ${sets.join(', ')} where org_id = $1 and id = $2 returning id`,
    params,
  );
  return rows.length > 0;
}

/** Deletes an account and everything Shoal mirrored from it (never anything on the server). */
export async function deleteMailAccount(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>('delete from mail_accounts where org_id = $1 and id = $2 returning id', [
    orgId,
    id,
  ]);
  return rows.length > 0;
}

/** The email domains in use in an organization (people's addresses and connected accounts). */
export async function listOrgDomains(q: Queryable, orgId: string): Promise<string[]> {
  const rows = await q.query<{ domain: string }>(
    `select distinct split_part(email, '@', 2) as domain from users where org_id = $1 and active
     union select distinct split_part(email, '@', 2) from mail_accounts where org_id = $1`,
    [orgId],
  );
  return rows.map((r) => r.domain);
}
