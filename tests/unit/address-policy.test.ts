import { describe, expect, it } from 'vitest';
import { checkHost, isPrivateAddress } from '../../server/net/address-policy';

describe('address policy', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.5',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '224.0.0.1',
    'not-an-ip',
  ])('refuses %s', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  it('checks names after resolution, including a trailing dot', async () => {
    expect(await checkHost('localhost', false)).toMatchObject({ ok: false, reason: 'private' });
    expect(await checkHost('localhost.', false)).toMatchObject({ ok: false, reason: 'private' });
    expect(await checkHost('127.0.0.1', true)).toEqual({ ok: true, addresses: ['127.0.0.1'] });
    expect(await checkHost('no-such-host.invalid', true)).toEqual({ ok: false, reason: 'unresolvable' });
  });
});
