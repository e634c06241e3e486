/**
 * @module app/lib/sync/status
 * The one word the app shows about the connection. Kept apart from the
 * provider so the rule is plain and testable: the browser saying it is
 * offline wins, a socket that is not open is offline, and an open one is
 * syncing until the server's state has arrived.
 */
export const CONNECTION_STATUSES = { online: 'online', offline: 'offline', syncing: 'syncing' } as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[keyof typeof CONNECTION_STATUSES];

export type SocketState = 'connecting' | 'connected' | 'disconnected';

export interface ConnectionFacts {
  /** `navigator.onLine`: false is reliable, true only means "maybe". */
  browserOnline: boolean;
  socket: SocketState;
  /** The server's state arrived on this connection and the device's went up. */
  synced: boolean;
  /** The first connection attempt has not failed yet (so "connecting" is not yet "offline"). */
  firstAttempt: boolean;
}

export function deriveStatus(facts: ConnectionFacts): ConnectionStatus {
  if (!facts.browserOnline) {
    return CONNECTION_STATUSES.offline;
  }
  if (facts.socket === 'connected') {
    return facts.synced ? CONNECTION_STATUSES.online : CONNECTION_STATUSES.syncing;
  }
  // Reconnect attempts after a failure stay "offline" until one succeeds, so the badge does not flicker.
  return facts.socket === 'connecting' && facts.firstAttempt ? CONNECTION_STATUSES.syncing : CONNECTION_STATUSES.offline;
}

/** The same-origin WebSocket base URL of the sync endpoint (`ws:` or `wss:` like the page). */
export function syncServerUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;
}
