/**
 * @module scripts/bench/sync-fleet-control
 * Starts the client process (sync-fleet.ts) under this process's loader
 * and sends it one command at a time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetCommand, FleetReply, ReplyTo } from './sync-fleet-protocol';

export class Fleet {
  private constructor(private readonly child: ChildProcess) {}

  static start(): Fleet {
    const child = fork(fileURLToPath(new URL('./sync-fleet.ts', import.meta.url)), [], { execArgv: process.execArgv, stdio: 'inherit' });
    return new Fleet(child);
  }

  /** Sends a command; @returns its reply. @throws with the client process's stack when it failed. */
  send<C extends FleetCommand>(command: C): Promise<ReplyTo<C>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the client process exited (${code}) during ${command.op}`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: FleetReply) => {
        this.child.off('exit', onExit);
        if (reply.op === 'error') {
          reject(new Error(`client process: ${reply.message}`));
          return;
        }
        resolve(reply as ReplyTo<C>);
      });
      this.child.send(command);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }
}
