/**
 * The session remembered for offline reloads: read back as it was stored,
 * ignored when it is not a session, and gone once forgotten.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MeDto } from '../../sync/api';
import { forgetMe, recallMe, rememberMe } from '../../app/src/lib/stores/remembered-me';

class MemoryStorage implements Storage {
  readonly #items = new Map<string, string>();
  get length(): number {
    return this.#items.size;
  }
  clear(): void {
    this.#items.clear();
  }
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, value);
  }
}

const ME = {
  user: { id: 'u1', name: 'Rob Rep', email: 'rob@acme.test', role: 'rep' },
  org: { id: 'o1', name: 'Acme Sales' },
} as unknown as MeDto;

describe('the remembered session', () => {
  let storage: MemoryStorage;

  beforeEach(() => {
    storage = new MemoryStorage();
    Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'localStorage');
  });

  it('is read back as stored, and gone once forgotten', () => {
    expect(recallMe()).toBeNull();
    rememberMe(ME);
    expect(recallMe()).toEqual(ME);
    forgetMe();
    expect(recallMe()).toBeNull();
    expect(storage.length).toBe(0);
  });

  it('ignores what is not a session', () => {
    for (const junk of ['not json', '{"user":{"id":1},"org":{"id":"o1"}}', '{"user":{"id":"u1"}}', 'null', '[]']) {
      storage.setItem('shoal:me', junk);
      expect(recallMe(), junk).toBeNull();
    }
  });

  it('is simply absent where the browser offers no storage', () => {
    Reflect.deleteProperty(globalThis, 'localStorage');
    rememberMe(ME);
    expect(recallMe()).toBeNull();
    expect(() => forgetMe()).not.toThrow();
  });
});
