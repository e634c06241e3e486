import { describe, expect, it } from 'vitest';
import { maskPath } from '../../server/middleware/request-log';
import { contentSecurityPolicy } from '../../server/static';

describe('HTTP hardening helpers', () => {
  it('masks invite tokens in logged paths', () => {
    expect(maskPath('/api/invites/abcdefgh234567abcdefgh234567abcd/accept')).toBe('/api/invites/[token]/accept');
    expect(maskPath('/api/people')).toBe('/api/people');
  });

  it('allows exactly the shell’s inline scripts by hash and forbids plugins, framing and base changes', () => {
    const csp = contentSecurityPolicy('<script>boot()</script><script src="/x.js"></script>');
    expect(csp).toContain("script-src 'self' 'sha256-");
    expect(csp.match(/sha256-/g)).toHaveLength(1);
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
  });
});
