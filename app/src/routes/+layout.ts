/**
 * The app is a client-only SPA served from adapter-static's fallback page:
 * no server rendering and nothing prerendered.
 */
export const ssr = false;
export const prerender = false;
