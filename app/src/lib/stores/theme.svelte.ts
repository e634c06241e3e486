/**
 * @module app/lib/stores/theme
 * The colour theme preference. "system" follows `prefers-color-scheme`;
 * "light" and "dark" set `data-theme` on <html>. `static/theme-init.js`
 * applies the saved value before first paint, using the same storage key.
 */
export const THEME_PREFERENCES = ['system', 'light', 'dark'] as const;
export type ThemePreference = (typeof THEME_PREFERENCES)[number];

const STORAGE_KEY = 'shoal:theme';

function isPreference(value: unknown): value is ThemePreference {
  return typeof value === 'string' && (THEME_PREFERENCES as readonly string[]).includes(value);
}

class ThemeStore {
  preference = $state<ThemePreference>('system');

  /** Reads the saved preference; call once in the browser. */
  init(): void {
    try {
      const saved = localStorage.getItem(STORAGE_KEY);
      this.preference = isPreference(saved) ? saved : 'system';
    } catch {
      this.preference = 'system';
    }
    this.#apply();
  }

  /** @param preference The new preference; persisted and applied at once. */
  set(preference: ThemePreference): void {
    this.preference = preference;
    try {
      if (preference === 'system') {
        localStorage.removeItem(STORAGE_KEY);
      } else {
        localStorage.setItem(STORAGE_KEY, preference);
      }
    } catch {
      // Storage blocked: the choice still applies to this tab.
    }
    this.#apply();
  }

  #apply(): void {
    const root = document.documentElement;
    if (this.preference === 'system') {
      root.removeAttribute('data-theme');
    } else {
      root.setAttribute('data-theme', this.preference);
    }
  }
}

/** The app-wide theme preference. */
export const theme = new ThemeStore();
