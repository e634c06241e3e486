/**
 * The PGlite test template is cached on disk under a key derived from the
 * migrations; a stale key would hand tests a database missing a migration.
 */
import { describe, expect, it } from 'vitest';
import { templateKey } from '../helpers/pglite-template';

const migrations = [
  { version: 1, name: 'init', checksum: 'aaa' },
  { version: 2, name: 'mail', checksum: 'bbb' },
];

describe('PGlite template key', () => {
  it('is stable for the same migrations and engine', () => {
    expect(templateKey(migrations, '0.5.16')).toBe(templateKey([...migrations.map((m) => ({ ...m }))], '0.5.16'));
    expect(templateKey(migrations, '0.5.16')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('changes when a migration is added, edited, renamed or renumbered', () => {
    const base = templateKey(migrations, '0.5.16');
    const variants = [
      [...migrations, { version: 3, name: 'more', checksum: 'ccc' }],
      [migrations[0]!, { ...migrations[1]!, checksum: 'bbc' }],
      [migrations[0]!, { ...migrations[1]!, name: 'mail2' }],
      [migrations[0]!, { ...migrations[1]!, version: 3 }],
      [migrations[0]!],
    ];
    const keys = variants.map((v) => templateKey(v, '0.5.16'));
    expect(new Set([base, ...keys]).size).toBe(variants.length + 1);
  });

  it('changes with the PGlite version, whose data directory may not load elsewhere', () => {
    expect(templateKey(migrations, '0.5.16')).not.toBe(templateKey(migrations, '0.6.0'));
  });
});
