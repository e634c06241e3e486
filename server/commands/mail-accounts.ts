/**
 * @module server/commands/mail-accounts
 * Connecting a mailbox: the settings must work before anything is saved, the
 * credentials are sealed before they touch the database, and From addresses
 * must belong to the organization.
 */
import { isUniqueViolation } from '../../db/errors';
import {
  deleteMailAccount,
  findMailAccount,
  insertMailAccount,
  listOrgDomains,
  replaceFromAddresses,
  type MailAccountRow,
} from '../../db/queries/mail-accounts';
import { countUse } from '../../db/queries/rate-limits';
import { ERROR_CODES, type ConnectionTestDto } from '../../sync/api';
import type { Auth, Deps } from '../context';
import { forbidden, HttpError, notFound } from '../errors';
import { endpointsOf, type ValidMailAccountInput } from '../mail/account-input';
import { testConnection } from '../mail/connection';
import { CUSTOM_PROVIDER, findPreset } from '../mail/presets';
import { createAccountSecrets } from '../secrets/account-secrets';

/** The provider's advice for a refused password (app passwords, OAuth). */
export function passwordHint(provider: string): string | null {
  return findPreset(provider)?.passwordHint ?? null;
}

/** Probes per person per window: each one makes the server dial a host the person chose. */
export const PROBE_LIMIT = { count: 20, windowMs: 10 * 60_000 } as const;

/**
 * Counts a probe against the person's allowance.
 * @throws {HttpError} 429 `too_many_attempts` with Retry-After once the window is used up.
 */
export async function limitProbes(deps: Deps, auth: Auth): Promise<void> {
  const now = deps.now();
  const use = await countUse(deps.db, `mail-probe:${auth.user.id}`, now, PROBE_LIMIT.windowMs);
  if (use.count <= PROBE_LIMIT.count) {
    return;
  }
  const seconds = Math.max(1, Math.ceil((use.windowStart.getTime() + PROBE_LIMIT.windowMs - now.getTime()) / 1000));
  throw new HttpError(
    429,
    ERROR_CODES.tooManyAttempts,
    `Too many connection tests; try again in ${Math.ceil(seconds / 60)} minute${seconds > 60 ? 's' : ''}`,
    undefined,
    { 'Retry-After': String(seconds) },
  );
}

/** Probes both servers with the given settings; nothing is stored. */
export async function testMailSettings(deps: Deps, input: ValidMailAccountInput): Promise<ConnectionTestDto> {
  const { imap, smtp } = endpointsOf(input);
  return testConnection(imap, smtp, {
    hint: passwordHint(input.provider),
    allowPrivateHosts: deps.config.mailAllowPrivateHosts,
  });
}

/**
 * The refusal for a probe that failed: 422 `connection_failed`, `field`
 * naming the first server that refused and `details` (ConnectionFailureDetails)
 * every one of them, each with its code, message and hint apart.
 * @returns null when every probed server accepted.
 */
export function probeFailure(result: ConnectionTestDto): HttpError | null {
  const failed = (['imap', 'smtp'] as const).flatMap((server) => {
    const probe = result[server];
    return probe.ok ? [] : [{ server, problem: probe.problem }];
  });
  const first = failed[0];
  if (!first) {
    return null;
  }
  const details: Record<string, string> = {};
  for (const { server, problem } of failed) {
    details[`${server}.code`] = problem.code;
    details[`${server}.message`] = problem.message;
    if (problem.hint) {
      details[`${server}.hint`] = problem.hint;
    }
  }
  const message = failed.map(({ problem }) => (problem.hint ? `${problem.message} ${problem.hint}` : problem.message)).join(' ');
  return new HttpError(422, ERROR_CODES.connectionFailed, message, first.server, undefined, details);
}

/**
 * The account's From addresses: its own address first (the default), then
 * the requested ones, each on one of the organization's domains.
 * @throws {HttpError} 400 `from_address_not_allowed` naming the row.
 */
export async function checkFromAddresses(
  deps: Deps,
  orgId: string,
  email: string,
  requested: readonly { address: string; name?: string | null }[] = [],
) {
  const domains = new Set([...(await listOrgDomains(deps.db, orgId)), email.split('@')[1]]);
  requested.forEach((entry, index) => {
    if (!domains.has(entry.address.split('@')[1])) {
      throw new HttpError(
        400,
        ERROR_CODES.fromAddressNotAllowed,
        `${entry.address} is not an address of your organization's domains (${[...domains].sort().join(', ')})`,
        `fromAddresses.${index}.address`,
      );
    }
  });
  const all = [{ address: email, name: null as string | null }, ...requested.map((r) => ({ address: r.address, name: r.name ?? null }))];
  const unique = [...new Map(all.map((a) => [a.address, a])).values()];
  return unique.map((a, i) => ({ ...a, isDefault: i === 0 }));
}

/**
 * Connects a mailbox for the signed-in person after a successful probe.
 * @throws {HttpError} 422 `connection_failed` with every refusing server; 400 for a foreign From address; 409 when already connected.
 */
export async function connectMailAccount(deps: Deps, auth: Auth, input: ValidMailAccountInput): Promise<MailAccountRow> {
  const orgId = auth.user.orgId;
  if (input.provider !== CUSTOM_PROVIDER && !findPreset(input.provider)) {
    throw new HttpError(400, ERROR_CODES.validationFailed, `provider: unknown provider ${input.provider}`, 'provider');
  }
  const fromAddresses = await checkFromAddresses(deps, orgId, input.email, input.fromAddresses);
  await limitProbes(deps, auth);
  const failure = probeFailure(await testMailSettings(deps, input));
  if (failure) {
    throw failure;
  }
  const id = crypto.randomUUID();
  const { imap, smtp } = endpointsOf(input);
  const sealed = createAccountSecrets(deps.keyring, id, {
    imap: input.imap.password,
    smtp: input.smtpSameCredentials ? null : (input.smtp.password ?? null),
  });
  let account: MailAccountRow;
  try {
    account = await deps.db.transaction(async (tx) => {
      await insertMailAccount(tx, {
        id,
        orgId,
        ownerId: auth.user.id,
        label: input.label || input.email,
        email: input.email,
        provider: input.provider,
        imapHost: imap.host,
        imapPort: imap.port,
        imapSecurity: imap.security,
        imapUser: imap.user,
        smtpHost: smtp.host,
        smtpPort: smtp.port,
        smtpSecurity: smtp.security,
        smtpUser: smtp.user,
        authKind: 'password',
        ...sealed,
        storeSent: input.storeSent,
      });
      await replaceFromAddresses(tx, id, fromAddresses);
      return (await findMailAccount(tx, orgId, id)) as MailAccountRow;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HttpError(409, ERROR_CODES.conflict, `${input.email} is already connected to your Shoal account`, 'email');
    }
    throw error;
  }
  await deps.mailSync?.ensure(account.id);
  deps.changes?.publish({ kind: 'account', accountId: account.id, ownerId: account.ownerId });
  return account;
}

/**
 * Finds an account the person may manage: their own, or any in the org for an admin.
 * @throws {HttpError} 404 otherwise (no hint that someone else's account exists).
 */
export async function manageableAccount(deps: Deps, auth: Auth, id: string): Promise<MailAccountRow> {
  const account = await findMailAccount(deps.db, auth.user.orgId, id);
  if (!account || (account.ownerId !== auth.user.id && auth.user.role !== 'admin')) {
    throw notFound('Mailbox');
  }
  return account;
}

/**
 * Finds an account only its owner may change. Admins see every account's
 * settings and health, never its credentials, so they may not change it
 * either: a new server with the stored password would hand them the secret.
 * @throws {HttpError} 403 for an admin who is not the owner; 404 for anyone else.
 */
export async function ownedAccount(deps: Deps, auth: Auth, id: string): Promise<MailAccountRow> {
  const account = await manageableAccount(deps, auth, id);
  if (account.ownerId !== auth.user.id) {
    throw forbidden('Only the person who connected this mailbox can change its settings');
  }
  return account;
}

/**
 * Disconnects a mailbox: removes Shoal's copy, never anything on the mail server.
 * @throws {HttpError} 404.
 */
export async function disconnectMailAccount(deps: Deps, auth: Auth, id: string): Promise<void> {
  const account = await manageableAccount(deps, auth, id);
  await deps.mailSync?.stop(account.id);
  await deleteMailAccount(deps.db, auth.user.orgId, account.id);
  deps.changes?.publish({ kind: 'account', accountId: account.id, ownerId: account.ownerId, orgId: account.orgId, removed: true });
}
