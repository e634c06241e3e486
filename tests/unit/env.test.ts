import { describe, expect, it } from 'vitest';
import { EnvError, loadConfig } from '../../server/env';

describe('configuration', () => {
  it('has working defaults: embedded database, localhost:3000, first sign-up only', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.origins).toEqual(['http://localhost:3000']);
    expect(config.secureCookies).toBe(false);
    expect(config.signup).toBe('first');
    expect(config.dataDir).toMatch(/data$/);
    expect(config.databasePrepare).toBe(true);
  });

  it('turns Postgres prepared statements off for a pooler, and names a value it cannot read', () => {
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).databasePrepare).toBe(false);
    expect(() => loadConfig({ DATABASE_PREPARED_STATEMENTS: 'sometimes' })).toThrow(/DATABASE_PREPARED_STATEMENTS/);
  });

  it('lists every problem at once, naming each variable', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        REDIS_URL: 'nope',
        ORIGIN: 'https://a.test/path',
        SIGNUP: 'sometimes',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems.map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'ORIGIN', 'PORT', 'REDIS_URL', 'SIGNUP'].sort());
  });

  it('treats empty strings as unset and accepts several origins, the first being public', () => {
    const config = loadConfig({ DATABASE_URL: '', ORIGIN: 'https://inbox.acme.test, http://localhost:5173', PORT: '8080' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.origins).toEqual(['https://inbox.acme.test', 'http://localhost:5173']);
    expect(config.publicUrl).toBe('https://inbox.acme.test');
    expect(config.secureCookies).toBe(true);
  });
});
