/**
 * @module app/lib/utils/format
 * Display helpers for roles, dates and durations.
 */
import type { Role } from '$sync/api';

const ROLE_LABELS: Record<Role, string> = { admin: 'Admin', manager: 'Manager', rep: 'Rep' };

/** @returns The role's display name. */
export function roleLabel(role: Role): string {
  return ROLE_LABELS[role];
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'short',
});

/** @returns A medium date like "12 Mar 2026", or the input when it isn't a date. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

/** @returns A medium date and time, or the input when it isn't a date. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date);
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** @returns A rounded-up human duration: "45 seconds", "3 minutes", "2 hours". */
export function formatDuration(seconds: number): string {
  if (seconds < 120) {
    return plural(Math.max(1, Math.ceil(seconds)), 'second');
  }
  if (seconds < 3600) {
    return plural(Math.ceil(seconds / 60), 'minute');
  }
  return plural(Math.ceil(seconds / 3600), 'hour');
}

/** @returns Up to two initials for an avatar. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '';
  return (first + last).toUpperCase();
}
