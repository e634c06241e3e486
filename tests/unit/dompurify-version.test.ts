/**
 * DOMPurify below 3.4.18 has known bypasses (reliability research §1): the
 * dependency is pinned exactly, and the installed copy is at least that.
 */
import { readFileSync } from 'node:fs';
import DOMPurify from 'dompurify';
import { describe, expect, it } from 'vitest';

const newerOrEqual = (version: string, floor: string) => {
  const a = version.split('.').map(Number);
  const b = floor.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) {
      return (a[i] ?? 0) > (b[i] ?? 0);
    }
  }
  return true;
};

describe('dompurify', () => {
  it('is pinned exactly, at 3.4.18 or newer, and that is what is installed', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const pinned = pkg.dependencies.dompurify ?? '';
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(newerOrEqual(pinned, '3.4.18')).toBe(true);
    expect(DOMPurify.version).toBe(pinned);
  });
});
