/**
 * @module tests/helpers/e2e-session
 * What the browser suites share: one live server and one Chromium per
 * suite, screenshots under test-results, and signing up an organization
 * through the real sign-up page.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser, startLiveServer, type LiveServer } from './browser';
import { createPostgresDb } from './db';
import { prerequisite } from './prereq';

export const SHOTS = 'test-results/screenshots';
export const PASSWORD = 'correct horse battery staple';

/** A full-page screenshot under {@link SHOTS}. */
export async function shot(page: Page, name: string): Promise<void> {
  const path = `${SHOTS}/${name}.png`;
  // Let transitions (theme colours, a disclosure opening) settle.
  await page.waitForTimeout(200);
  const viewport = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (!viewport || height <= viewport.height) {
    await page.screenshot({ path });
    return;
  }
  // A full-page capture stitches the scrolled page, leaving the full-height sidebar short;
  // a viewport as tall as the page lays it out whole, as a taller screen would.
  await page.setViewportSize({ width: viewport.width, height });
  try {
    await page.screenshot({ path });
  } finally {
    await page.setViewportSize(viewport);
  }
}

/** The same screenshot in the dark theme (`<name>`), then back to light. */
export async function shotDark(page: Page, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    await shot(page, name);
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
}

/** A database for a live server: its environment, and how to clean up once the server stopped. */
export interface E2eDriver {
  name: 'pglite' | 'postgres';
  prepare(): Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
}

/** File-backed PGlite always; Postgres too when TEST_DATABASE_URL is set (a database of its own named after `prefix`). */
export function e2eDrivers(prefix: string): E2eDriver[] {
  const testDatabaseUrl = process.env.TEST_DATABASE_URL;
  const postgres: E2eDriver = {
    name: 'postgres',
    async prepare() {
      const t = await createPostgresDb(testDatabaseUrl as string, prefix);
      const [row] = await t.db.query<{ name: string }>('select current_database() as name');
      const url = new URL(testDatabaseUrl as string);
      url.pathname = `/${row?.name ?? ''}`;
      return { env: { DATABASE_URL: url.toString() }, drop: () => t.drop() };
    },
  };
  const hasPostgres = prerequisite('Postgres tier', testDatabaseUrl ? null : 'TEST_DATABASE_URL is not set');
  return [{ name: 'pglite', prepare: async () => ({ env: {}, drop: async () => {} }) }, ...(hasPostgres ? [postgres] : [])];
}

export interface LiveBrowser {
  readonly server: LiveServer;
  readonly browser: Browser;
}

/** Starts a live server and Chromium before the suite's tests and stops both after; read them inside tests. */
export function useLiveBrowser(): LiveBrowser {
  let server: LiveServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    server = await startLiveServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) {
        throw new Error('the live server is not started yet');
      }
      return server;
    },
    get browser() {
      if (!browser) {
        throw new Error('the browser is not launched yet');
      }
      return browser;
    },
  };
}

export interface SignUpOptions {
  orgName?: string;
  name?: string;
  email?: string;
  /** Runs on the filled-in form, before "Create organization" (e.g. a screenshot). */
  beforeSubmit?: () => Promise<void>;
}

/** Opens the app on a fresh server, is sent to sign-up, creates the organization and lands in the inbox. */
export async function signUp(page: Page, options: SignUpOptions = {}): Promise<void> {
  await page.goto('/');
  await page.waitForURL(/\/signup$/);
  await page.getByRole('heading', { name: 'Create your organization' }).waitFor();
  await page.getByLabel('Organization name').fill(options.orgName ?? 'Acme Sales');
  await page.getByLabel('Your name').fill(options.name ?? 'Ada Admin');
  await page.getByLabel('Work email').fill(options.email ?? 'ada@acme.test');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await options.beforeSubmit?.();
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.waitForURL(/\/inbox$/);
}
