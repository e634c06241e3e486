/**
 * @module app/lib/components/mailboxes/mailbox-format
 * Display helpers for mailbox health: status names and tones, relative
 * times, and the usual ports per security setting.
 */
import type { MailAccountDto, MailAccountStatus, MailSecurity } from '$sync/api';

type Tone = 'neutral' | 'accent' | 'success' | 'warning' | 'danger';

const STATUS: Record<MailAccountStatus, { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'neutral' },
  syncing: { label: 'Syncing', tone: 'accent' },
  idle: { label: 'Up to date', tone: 'success' },
  error: { label: 'Error', tone: 'danger' },
  disabled: { label: 'Paused', tone: 'warning' },
};

/** @returns The badge text for a status, e.g. "Up to date". */
export function statusLabel(status: MailAccountStatus): string {
  return STATUS[status].label;
}

/** @returns The badge tone for a status. */
export function statusTone(status: MailAccountStatus): Tone {
  return STATUS[status].tone;
}

/** @returns One sentence explaining the status, for the health line. */
export function statusDetail(account: MailAccountDto): string {
  switch (account.status) {
    case 'pending':
      return 'Waiting for the first connection.';
    case 'syncing':
      return account.initialSyncCompletedAt ? 'Catching up with the server.' : 'Copying your mail into Shoal.';
    case 'idle':
      return 'Mirroring new mail as it arrives.';
    case 'error':
      return account.health.message ?? 'Shoal could not reach this mailbox. It keeps retrying.';
    case 'disabled':
      return 'Sync is paused for this mailbox.';
  }
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const STEPS: [limit: number, unit: Intl.RelativeTimeFormatUnit, seconds: number][] = [
  [60, 'second', 1],
  [3_600, 'minute', 60],
  [86_400, 'hour', 3_600],
  [604_800, 'day', 86_400],
  [Infinity, 'week', 604_800],
];

/** @returns "just now", "3 minutes ago", "yesterday"…, or null for a missing date. */
export function relativeTime(iso: string | null, now: number): string | null {
  if (!iso) {
    return null;
  }
  const at = Date.parse(iso);
  if (Number.isNaN(at)) {
    return null;
  }
  const seconds = Math.round((at - now) / 1000);
  if (Math.abs(seconds) < 10) {
    return 'just now';
  }
  const step = STEPS.find(([limit]) => Math.abs(seconds) < limit) ?? STEPS[STEPS.length - 1];
  if (!step) {
    return null;
  }
  return relative.format(Math.round(seconds / step[2]), step[1]);
}

/** The port a server usually listens on for each security setting. */
export const USUAL_PORTS: Record<'imap' | 'smtp', Record<MailSecurity, number>> = {
  imap: { tls: 993, starttls: 143, none: 143 },
  smtp: { tls: 465, starttls: 587, none: 25 },
};

export const SECURITY_OPTIONS: { value: MailSecurity; label: string }[] = [
  { value: 'tls', label: 'SSL/TLS' },
  { value: 'starttls', label: 'STARTTLS' },
  { value: 'none', label: 'None' },
];

/** @returns Progress as a whole percentage (0 when the total is unknown). */
export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
}

const count = new Intl.NumberFormat();

/** @returns "1,204 of 6,046 messages". */
export function progressText(done: number, total: number): string {
  return `${count.format(done)} of ${count.format(total)} message${total === 1 ? '' : 's'}`;
}
