/**
 * @module server/sync/transport/bus-links
 * The transport's traffic between processes, over the document host's bus:
 * ended sessions (every process closes their sockets) and presence (people
 * on different processes see each other). Each is handled here at once and
 * published for the others; a process ignores its own messages coming back.
 * Pub/sub may lose a message: a lost presence renewal comes again within
 * 15 s, and a lost session event still leaves the session unusable at its
 * next upgrade or request.
 */
import type { Logger } from 'pino';
import type { Bus } from '../host/bus';
import type { AwarenessEntry } from './frames';
import { createLocalSessionBus, type SessionEvent, type SessionEventBus } from './session-events';

/** Carries presence changes between the processes' presence hubs. */
export interface PresenceRelay {
  publish(orgId: string, entries: AwarenessEntry[]): void;
  /** @returns a function that stops the delivery. */
  subscribe(handler: (orgId: string, entries: AwarenessEntry[]) => void): () => void;
}

export interface TransportLinks {
  sessionBus: SessionEventBus;
  presenceRelay?: PresenceRelay;
}

/** Links over the host's bus, or in-process ones when the process has none. */
export function transportLinks(bus: Bus | undefined, log: Logger): TransportLinks {
  if (!bus) {
    return { sessionBus: createLocalSessionBus() };
  }
  return { sessionBus: sessionBusOver(bus, log), presenceRelay: presenceRelayOver(bus, log) };
}

function warn(log: Logger, what: string) {
  return (error: unknown) => log.warn({ err: error }, `sync bus: ${what} not published`);
}

export function sessionBusOver(bus: Bus, log: Logger): SessionEventBus {
  const local = createLocalSessionBus();
  bus.subscribe((m) => {
    if (m.kind === 'session' && m.from !== bus.processId) {
      local.publish(m.event);
    }
  });
  return {
    publish(event: SessionEvent) {
      local.publish(event);
      bus.publish({ kind: 'session', event }).catch(warn(log, 'session event'));
    },
    subscribe: (handler) => local.subscribe(handler),
  };
}

export function presenceRelayOver(bus: Bus, log: Logger): PresenceRelay {
  return {
    publish(orgId, entries) {
      bus.publish({ kind: 'presence', orgId, entries }).catch(warn(log, 'presence'));
    },
    subscribe(handler) {
      return bus.subscribe((m) => {
        if (m.kind === 'presence' && m.from !== bus.processId) {
          handler(m.orgId, m.entries);
        }
      });
    },
  };
}
