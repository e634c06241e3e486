/**
 * @module server/app
 * Assembles the HTTP application from its parts. Built from injected
 * dependencies, so tests drive it through `app.request()` without a port.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ERROR_CODES } from '../sync/api';
import type { AppEnv, Deps } from './context';
import { errorHandler, HttpError } from './errors';
import { originCheck } from './middleware/origin-check';
import { requestLog } from './middleware/request-log';
import { loadSession } from './middleware/session';
import { authRoutes, meRoutes } from './routes/auth';
import { groupRoutes } from './routes/groups';
import { healthRoutes } from './routes/health';
import { inviteRoutes } from './routes/invites';
import { mailAccountRoutes } from './routes/mail-accounts';
import { messageRoutes } from './routes/messages';
import { peopleRoutes } from './routes/people';
import { staticApp } from './static';

const MAX_BODY_BYTES = 1024 * 1024;

function apiRoutes() {
  return new Hono<AppEnv>()
    .use(
      '*',
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: () => {
          throw new HttpError(413, ERROR_CODES.payloadTooLarge, 'The request body is larger than 1 MB');
        },
      }),
    )
    .use('*', originCheck)
    .use('*', loadSession)
    .route('/auth', authRoutes)
    .route('/me', meRoutes)
    .route('/invites', inviteRoutes)
    .route('/people', peopleRoutes)
    .route('/groups', groupRoutes)
    .route('/mail', mailAccountRoutes)
    .route('/mail', messageRoutes);
}

/**
 * Creates the Shoal HTTP app.
 * @param deps database, configuration, logger and clock.
 */
export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('*', requestLog);
  app.route('/', healthRoutes);
  app.route('/api', apiRoutes());
  app.all('/api/*', () => {
    throw new HttpError(404, ERROR_CODES.notFound, 'No such API endpoint');
  });
  const web = staticApp(deps.config.appDir);
  if (web) {
    app.route('/', web);
  }
  app.notFound((c) => c.json({ error: { code: ERROR_CODES.notFound, message: 'Not found' } }, 404));
  app.onError(errorHandler(deps.log));
  return app;
}

export type ShoalApp = ReturnType<typeof createApp>;
