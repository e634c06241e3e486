/**
 * @module server/commands/mail-account-settings
 * Changing a connected mailbox: changed servers are probed before anything
 * is saved (same probe and allowance as connecting), new secrets are sealed
 * with the account's own data key, and the sync worker restarts with the
 * new incoming settings or From addresses.
 */
import { findAccountSecrets, findMailAccount, replaceFromAddresses, updateMailAccount, type MailAccountRow } from '../../db/queries/mail-accounts';
import type { ConnectionTestDto } from '../../sync/api';
import type { Auth, Deps } from '../context';
import { publishing } from '../sync/projection/changes';
import { notFound } from '../errors';
import type { ValidMailAccountUpdate } from '../mail/account-input';
import { planUpdate, type UpdatePlan } from '../mail/account-update';
import { probeImap, probeSmtp, testConnection, type ProbeOptions } from '../mail/connection';
import { openAccountSecrets, sealAccountSecret, SECRET_FIELDS } from '../secrets/account-secrets';
import { checkFromAddresses, limitProbes, ownedAccount, passwordHint, probeFailure } from './mail-accounts';

type FromRows = Awaited<ReturnType<typeof checkFromAddresses>>;

/** The requested From addresses when they differ from the stored ones, else null (nothing to replace or restart). */
async function changedFrom(deps: Deps, account: MailAccountRow, input: ValidMailAccountUpdate): Promise<FromRows | null> {
  if (!input.fromAddresses) {
    return null;
  }
  const rows = await checkFromAddresses(deps, account.orgId, account.email, input.fromAddresses);
  const key = (list: readonly { address: string; name: string | null; isDefault: boolean }[]) =>
    JSON.stringify([...list].sort((a, b) => a.address.localeCompare(b.address)).map((r) => [r.address, r.name, r.isDefault]));
  return key(rows) === key(account.fromAddresses) ? null : rows;
}

async function plan(deps: Deps, account: MailAccountRow, input: ValidMailAccountUpdate) {
  const sealed = await findAccountSecrets(deps.db, account.id);
  if (!sealed) {
    throw notFound('Mailbox');
  }
  const stored = openAccountSecrets(deps.keyring, account.id, sealed);
  return { sealed, plan: planUpdate(account, stored, input) };
}

function probeOptions(deps: Deps, account: MailAccountRow): ProbeOptions {
  return { hint: passwordHint(account.provider), allowPrivateHosts: deps.config.mailAllowPrivateHosts };
}

/** Probes the servers whose settings change; an unchanged one already works (or its health line says otherwise). */
async function probeChanged(deps: Deps, account: MailAccountRow, p: UpdatePlan): Promise<ConnectionTestDto> {
  const options = probeOptions(deps, account);
  const [imap, smtp] = await Promise.all([
    p.changed.imap ? probeImap(p.imap, options) : ({ ok: true } as const),
    p.changed.smtp ? probeSmtp(p.smtp, options) : ({ ok: true } as const),
  ]);
  return { imap, smtp };
}

/**
 * Probes both servers as they would be after the change; nothing is stored.
 * @throws {HttpError} 403/404 (not the owner), 400 (a secret must be typed again), 429 (allowance used up).
 */
export async function testMailAccountUpdate(deps: Deps, auth: Auth, id: string, input: ValidMailAccountUpdate): Promise<ConnectionTestDto> {
  const account = await ownedAccount(deps, auth, id);
  const { plan: p } = await plan(deps, account, input);
  await limitProbes(deps, auth);
  return testConnection(p.imap, p.smtp, probeOptions(deps, account));
}

/**
 * Applies a settings change for the account's owner.
 * @throws {HttpError} 403/404, 400 `validation_failed` or `from_address_not_allowed`, 429, 422 `connection_failed`.
 */
export async function updateMailAccountSettings(deps: Deps, auth: Auth, id: string, input: ValidMailAccountUpdate): Promise<MailAccountRow> {
  const account = await ownedAccount(deps, auth, id);
  const { sealed, plan: p } = await plan(deps, account, input);
  const fromAddresses = await changedFrom(deps, account, input);
  if (p.changed.imap || p.changed.smtp) {
    await limitProbes(deps, auth);
    const failure = probeFailure(await probeChanged(deps, account, p));
    if (failure) {
      throw failure;
    }
  }
  const seal = (field: (typeof SECRET_FIELDS)[keyof typeof SECRET_FIELDS], value: string) =>
    sealAccountSecret(deps.keyring, account.id, sealed.wrappedDek, field, value);
  const patch = {
    ...p.patch,
    imapSecret: p.imapSecret === null ? undefined : seal(SECRET_FIELDS.imap, p.imapSecret),
    smtpSecret: typeof p.smtpSecret === 'string' ? seal(SECRET_FIELDS.smtp, p.smtpSecret) : p.smtpSecret,
    resetHealth: p.changed.imap ? deps.now() : undefined,
  };
  const updated = await deps.db.transaction(async (tx) => {
    await updateMailAccount(tx, account.orgId, account.id, patch);
    if (fromAddresses) {
      await replaceFromAddresses(tx, account.id, fromAddresses);
    }
    return (await findMailAccount(tx, account.orgId, account.id)) as MailAccountRow;
  }).then(publishing(deps.changes, { kind: 'account', accountId: account.id, ownerId: account.ownerId }));
  if (fromAddresses) {
    // Its own addresses decide which participants are other parties, so which of its mail links to records.
    deps.changes?.publish({ kind: 'sharing', ownerId: account.ownerId });
  }
  // The worker holds the incoming settings and the account's own addresses (message direction) for its lifetime.
  if (p.changed.imap || fromAddresses) {
    await deps.mailSync?.stop(account.id);
    await deps.mailSync?.ensure(account.id);
  }
  return updated;
}
