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

const DATE_STYLES = {
  time: { hour: 'numeric', minute: '2-digit' },
  weekday: { weekday: 'short' },
  dayMonth: { day: 'numeric', month: 'short' },
  full: { day: 'numeric', month: 'short', year: 'numeric' },
  // What Date#toLocaleString() shows, which builds a new formatter on every call.
  local: { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' },
} as const satisfies Record<string, Intl.DateTimeFormatOptions>;

// Creating an Intl.DateTimeFormat costs about as much as rendering a whole list row; each is made once.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string | undefined, style: keyof typeof DATE_STYLES): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${style}`;
  let format = formatters.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, DATE_STYLES[style]);
    formatters.set(key, format);
  }
  return format;
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
    return formatter(locale, 'time').format(date);
  }
  if (days === 1) {
    return 'Yesterday';
  }
  if (days < 7) {
    return formatter(locale, 'weekday').format(date);
  }
  return formatter(locale, date.getFullYear() === now.getFullYear() ? 'dayMonth' : 'full').format(date);
}

/** Date and time in full, as `Date#toLocaleString()` writes them (for a title), without its cost per call. */
export function localDateTime(iso: string, locale?: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : formatter(locale, 'local').format(date);
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
