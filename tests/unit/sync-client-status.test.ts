import { describe, expect, it } from 'vitest';
import { fieldKey } from '../../sync/doc/schema';
import type { SettledWrite } from '../../sync/client/outbox';
import { describeNotice } from '../../app/src/lib/sync/notices';
import { deriveStatus, syncServerUrl } from '../../app/src/lib/sync/status';

const T1 = '00000000-0000-4000-8000-000000000001';

describe('connection status', () => {
  it('is offline whenever the browser says so, syncing until the server state is in, then online', () => {
    const base = { browserOnline: true, socket: 'connected' as const, synced: true, firstAttempt: true };
    expect(deriveStatus(base)).toBe('online');
    expect(deriveStatus({ ...base, synced: false })).toBe('syncing');
    expect(deriveStatus({ ...base, browserOnline: false })).toBe('offline');
    expect(deriveStatus({ ...base, socket: 'connecting' })).toBe('syncing');
    expect(deriveStatus({ ...base, socket: 'connecting', firstAttempt: false })).toBe('offline');
    expect(deriveStatus({ ...base, socket: 'disconnected' })).toBe('offline');
  });

  it('connects to the page’s own origin', () => {
    expect(syncServerUrl({ protocol: 'https:', host: 'shoal.example' })).toBe('wss://shoal.example/sync');
    expect(syncServerUrl({ protocol: 'http:', host: '127.0.0.1:3000' })).toBe('ws://127.0.0.1:3000/sync');
  });
});

describe('write notices', () => {
  const write = (map: SettledWrite['entry']['map'], key: string, outcome: SettledWrite['outcome']): SettledWrite => ({
    entry: { map, key, value: null, hlc: '000000000000001:0000:a', seq: 1 },
    outcome,
    canonical: undefined,
  });

  it('names what lost or was refused, and says nothing of applied writes', () => {
    expect(describeNotice(write('fields', fieldKey(T1, 'assignee'), 'lost'))).toMatchObject({
      threadId: T1,
      field: 'assignee',
      message: 'Your change to the assignee lost to a later one.',
    });
    expect(describeNotice(write('shareFlags', T1, 'refused'))?.message).toBe('Your change to email sharing was not accepted.');
    expect(describeNotice(write('conversions', 'a@b.test', 'refused'))?.message).toBe('Your conversion of a@b.test was not accepted.');
    expect(describeNotice(write('fields', fieldKey(T1, 'status'), 'applied'))).toBeNull();
  });
});
