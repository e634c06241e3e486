/**
 * @module app/lib/stores/record-detail
 * One record's page: the record as the server last answered, and the
 * changes made from the page. Every change applies the server's answer, so
 * the page never shows something the server refused.
 */
import { api } from '$lib/api';
import { formatStamp, Hlc, tryParseStamp } from '$sync/hlc';
import type { RecordDto, RecordSharesInput, UpdateRecordInput } from '$sync/records-api';

const DEVICE_KEY = 'shoal.device';

/** A stable id for this browser, so its share-flag stamps are ordered against other devices'. */
function deviceNode(): string {
  try {
    const stored = localStorage.getItem(DEVICE_KEY);
    if (stored && /^[A-Za-z0-9_-]{1,32}$/.test(stored)) {
      return stored;
    }
    const made = `web-${crypto.randomUUID().slice(0, 8)}`;
    localStorage.setItem(DEVICE_KEY, made);
    return made;
  } catch {
    return 'web';
  }
}

let clock: Hlc | null = null;

function deviceClock(): Hlc {
  clock ??= new Hlc({ node: deviceNode(), now: () => Date.now() });
  return clock;
}

export class RecordPage {
  record = $state<RecordDto | null>(null);
  status = $state<'loading' | 'ready' | 'error'>('loading');
  loadError = $state<string | null>(null);
  notFound = $state(false);

  async load(id: string): Promise<void> {
    this.status = 'loading';
    this.loadError = null;
    this.notFound = false;
    try {
      this.record = await api.getRecord(id);
      this.status = 'ready';
    } catch (error) {
      this.status = 'error';
      this.notFound = error instanceof Error && 'status' in error && error.status === 404;
      this.loadError = error instanceof Error && error.message ? error.message : 'Could not load this record.';
      throw error;
    }
  }

  #require(): RecordDto {
    if (!this.record) {
      throw new Error('The record is not loaded');
    }
    return this.record;
  }

  async update(input: UpdateRecordInput): Promise<RecordDto> {
    this.record = await api.updateRecord(this.#require().id, input);
    return this.record;
  }

  async remove(): Promise<void> {
    await api.deleteRecord(this.#require().id);
  }

  async setShares(input: RecordSharesInput): Promise<void> {
    const record = this.#require();
    const shares = await api.setRecordShares(record.id, input);
    this.record = { ...record, shares };
  }

  /** @returns whether the server kept this change (a later change from another device wins). */
  async setShareFlag(shared: boolean): Promise<boolean> {
    const record = this.#require();
    const result = await api.setShareFlag(record.id, { shared, hlc: formatStamp(deviceClock().tick()) });
    // Learn the winning stamp, so this device's next change orders after it even if its clock is behind.
    const winner = tryParseStamp(result.hlc);
    if (winner) {
      deviceClock().receive(winner);
    }
    this.record = { ...record, myShareFlag: result.shared };
    return result.applied;
  }
}
