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
import { attachmentRoutes } from './routes/attachments';
import { authRoutes, meRoutes } from './routes/auth';
import { conversionRuleRoutes } from './routes/conversion-rules';
import { convertRoutes } from './routes/conversions';
import { adminSharingRoutes, mySharingRoutes } from './routes/email-sharing';
import { groupRoutes } from './routes/groups';
import { healthRoutes } from './routes/health';
import { imageProxyRoutes } from './routes/image-proxy';
import { inviteRoutes } from './routes/invites';
import { mailAccountRoutes } from './routes/mail-accounts';
import { messageRoutes } from './routes/messages';
import { organizationRoutes } from './routes/organization';
import { peopleRoutes } from './routes/people';
import { mailReadRoutes, messageVisibilityRoutes, recordEmailRoutes, threadRoutes } from './routes/mail-views';
import { notificationRoutes } from './routes/notifications';
import { recordRoutes } from './routes/records';
import { signatureRoutes } from './routes/signature';
import { staticApp } from './static';

const MAX_BODY_BYTES = 1024 * 1024;
/** Paths that apply their own, larger body limit (CSV import: 5 MB). */
const OWN_BODY_LIMIT = new Set(['/api/records/import']);

const defaultBodyLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new HttpError(413, ERROR_CODES.payloadTooLarge, 'The request body is larger than 1 MB');
  },
});

function apiRoutes() {
  return new Hono<AppEnv>()
    .use('*', (c, next) => (OWN_BODY_LIMIT.has(c.req.path) ? next() : defaultBodyLimit(c, next)))
    .use('*', originCheck)
    .use('*', loadSession)
    .route('/auth', authRoutes)
    .route('/me/email-sharing', mySharingRoutes)
    .route('/me/signature', signatureRoutes)
    .route('/me', meRoutes)
    .route('/invites', inviteRoutes)
    .route('/people', peopleRoutes)
    .route('/groups', groupRoutes)
    .route('/records', recordEmailRoutes)
    .route('/records', recordRoutes)
    .route('/threads', threadRoutes)
    .route('/notifications', notificationRoutes)
    .route('/mail', mailAccountRoutes)
    .route('/mail', messageRoutes)
    .route('/mail', mailReadRoutes)
    .route('/messages', messageVisibilityRoutes)
    .route('/messages', convertRoutes)
    .route('/messages', attachmentRoutes)
    .route('/image-proxy', imageProxyRoutes)
    .route('/admin/conversion-rules', conversionRuleRoutes)
    .route('/admin/email-sharing', adminSharingRoutes)
    .route('/admin/organization', organizationRoutes);
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
  deps.sync?.mount(app);
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
