/**
 * @module app/lib/stores/commands
 * What the command palette (Ctrl-K / ⌘K) offers: the app registers its
 * navigation, and a page registers the actions that make sense while it is
 * shown (the inbox: triage the active thread, switch views). Each source
 * replaces its own list, and drops it when the page goes away.
 */
import { untrack } from 'svelte';
import type { Command } from './command-match';

export type { Command };

class CommandRegistry {
  #sources = $state<Record<string, readonly Command[]>>({});

  readonly all = $derived(Object.values(this.#sources).flat());

  /** Sets a source's commands; @returns a function that removes them. */
  register(source: string, commands: readonly Command[]): () => void {
    // Called from effects: reading the sources there would make the effect depend on what it writes.
    untrack(() => {
      this.#sources = { ...this.#sources, [source]: commands };
    });
    return () =>
      untrack(() => {
        const { [source]: _removed, ...rest } = this.#sources;
        this.#sources = rest;
      });
  }
}

/** The tab's commands. */
export const commands = new CommandRegistry();
