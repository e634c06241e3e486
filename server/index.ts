/**
 * @module server/index
 * The process entry point: `tsx server/index.ts`. Configuration problems
 * and unsafe databases stop the process with a clear message and exit 1.
 */
import { EnvError, loadConfig, type Config } from './env';
import { start } from './boot';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  let running;
  try {
    running = await start(config, log);
  } catch (error) {
    log.fatal({ err: error }, 'Shoal could not start');
    console.error(`Shoal could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  log.info({ url: running.url }, 'Shoal is running');
  console.log(`\n  Shoal is running at ${running.url}\n`);
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void running.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
