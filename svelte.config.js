import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * The app is a single-page, local-first client: no SSR, one fallback page
 * that the Hono server hands out for every non-API path.
 * @type {import('@sveltejs/kit').Config}
 */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build/app', assets: 'build/app', fallback: 'index.html', strict: true }),
    files: {
      assets: 'app/static',
      hooks: { client: 'app/src/hooks.client', server: 'app/src/hooks.server', universal: 'app/src/hooks' },
      lib: 'app/src/lib',
      params: 'app/src/params',
      routes: 'app/src/routes',
      serviceWorker: 'app/src/service-worker',
      appTemplate: 'app/src/app.html',
      errorTemplate: 'app/src/error.html',
    },
    alias: { $sync: 'sync' },
  },
};

export default config;
