/**
 * @module app/lib/stores/toasts
 * Transient notifications shown by `Toasts.svelte` in a polite live region.
 */
export type ToastKind = 'info' | 'success' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

const TIMEOUT_MS: Record<ToastKind, number> = { info: 5000, success: 4000, error: 8000 };

class ToastStore {
  items = $state<Toast[]>([]);
  #nextId = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  /**
   * Shows a toast that dismisses itself.
   * @returns The toast id, for an early {@link dismiss}.
   */
  show(message: string, kind: ToastKind = 'info'): number {
    const id = this.#nextId++;
    // Drop an identical toast that is still showing, so repeated failures don't stack.
    const duplicate = this.items.find((t) => t.message === message && t.kind === kind);
    if (duplicate) {
      this.dismiss(duplicate.id);
    }
    this.items = [...this.items.slice(-3), { id, kind, message }];
    this.#timers.set(
      id,
      setTimeout(() => this.dismiss(id), TIMEOUT_MS[kind]),
    );
    return id;
  }

  success(message: string): number {
    return this.show(message, 'success');
  }

  error(message: string): number {
    return this.show(message, 'error');
  }

  dismiss(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    this.items = this.items.filter((t) => t.id !== id);
  }
}

/** The app-wide toast queue. */
export const toasts = new ToastStore();
