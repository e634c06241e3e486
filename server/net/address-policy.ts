/**
 * @module server/net/address-policy
 * Decides which network addresses the server may dial on a person's behalf
 * (mail servers, and remote images through the image proxy). Checked after DNS resolution, so
 * a public name that resolves to 127.0.0.1 or 169.254.169.254 is refused too.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
// Teredo (2001::/32) and 6to4 (2002::/16) embed an IPv4 address that may be a private one.
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Whether an IP literal is private, loopback, link-local, reserved or multicast (IPv4-mapped IPv6 included). */
export function isPrivateAddress(ip: string): boolean {
  const mapped = MAPPED_V4.exec(ip);
  if (mapped?.[1]) {
    return isPrivateAddress(mapped[1]);
  }
  const family = isIP(ip);
  if (family === 0) {
    return true;
  }
  return blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** Resolves a host name (or IP literal, trailing dot allowed) to every address it maps to; null when it does not resolve. */
export async function resolveHost(host: string): Promise<string[] | null> {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  try {
    return isIP(name) ? [name] : (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return null;
  }
}

export type HostCheck = { ok: true; addresses: string[] } | { ok: false; reason: 'unresolvable' | 'private'; address?: string };

/** Resolves a host to its addresses, null when it does not resolve (`resolveHost`, or a test's scripted DNS). */
export type HostResolver = (host: string) => Promise<string[] | null>;

/**
 * Resolves a host and checks every address it maps to.
 * @param allowPrivate skip the private-range check (self-hosted mail servers, tests).
 * @param resolve the DNS to ask; tests pass answers that change between calls (rebinding).
 */
export async function checkHost(host: string, allowPrivate: boolean, resolve: HostResolver = resolveHost): Promise<HostCheck> {
  const addresses = await resolve(host);
  if (!addresses || addresses.length === 0) {
    return { ok: false, reason: 'unresolvable' };
  }
  if (allowPrivate) {
    return { ok: true, addresses };
  }
  const bad = addresses.find(isPrivateAddress);
  return bad ? { ok: false, reason: 'private', address: bad } : { ok: true, addresses };
}
