/**
 * @module app/lib/components/inbox/mail-format
 * Words and numbers for mail: short list dates, people's names from
 * addresses, attachment sizes. Pure, for unit tests.
 */
import type { AddressDto, ThreadLane } from '$sync/mail-api';

const DAY_MS = 86_400_000;

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/**
 * A list date the way mail clients show it: the time today, "Yesterday",
 * the weekday within a week, the day and month this year, else the full date.
 * @param locale for tests; the browser's locale by default.
 */
export function shortDate(iso: string, now: Date = new Date(), locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const days = Math.round((startOfDay(now) - startOfDay(date)) / DAY_MS);
  if (days <= 0) {
    return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' }).format(date);
  }
  if (days === 1) {
    return 'Yesterday';
  }
  if (days < 7) {
    return new Intl.DateTimeFormat(locale, { weekday: 'short' }).format(date);
  }
  if (date.getFullYear() === now.getFullYear()) {
    return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(date);
  }
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric' }).format(date);
}

/** The display name, else the address, else a placeholder. */
export function personName(address: AddressDto | null): string {
  if (!address) {
    return '(no sender)';
  }
  return address.name?.trim() || address.address;
}

/** "Ada Admin <ada@acme.test>", or just the address when there is no name. */
export function fullAddress(address: AddressDto): string {
  const name = address.name?.trim();
  return name && name !== address.address ? `${name} <${address.address}>` : address.address;
}

/** "820 B", "14 KB", "2.4 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  if (bytes < 1024 * 1024) {
    return `${Math.round(bytes / 1024)} KB`;
  }
  const mb = bytes / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

/** The lanes, in tab order, with the words that name and explain them. */
export const LANES = [
  { id: 'all', label: 'All', empty: 'No conversations here yet.' },
  { id: 'deals', label: 'Deals', empty: 'Mail with contacts of an open deal lands here.' },
  { id: 'contacts_leads', label: 'Contacts & Leads', empty: 'Mail with your leads and contacts lands here.' },
  { id: 'not_in_crm', label: 'Not in CRM', empty: 'Mail with people who are not yet a lead or contact lands here.' },
  { id: 'colleagues', label: 'Colleagues', empty: 'Mail only between people of your organization lands here.' },
] as const satisfies readonly { id: ThreadLane; label: string; empty: string }[];
