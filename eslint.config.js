import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const bannedInApp = {
  patterns: [
    { group: ['**/server/**', '**/server', '**/db/**', '**/db'], message: 'The app reaches the server only through the API and sync/.' },
  ],
};

const bannedInSync = {
  patterns: [
    { group: ['node:*', '**/server/**', '**/db/**', 'hono', 'hono/*', 'postgres', '@electric-sql/*'], message: 'sync/ is pure: it imports only yjs and lib0.' },
  ],
};

export default ts.config(
  { ignores: ['build/', '.svelte-kit/', 'node_modules/', 'test-results/', 'data/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      curly: ['error', 'all'],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: { parserOptions: { projectService: true, extraFileExtensions: ['.svelte'], parser: ts.parser, svelteConfig } },
  },
  {
    files: ['app/**'],
    rules: {
      'no-restricted-imports': ['error', bannedInApp],
      // The app is served from the origin root with no `paths.base`, so resolve() would be an identity call.
      'svelte/no-navigation-without-resolve': 'off',
      // Stores replace collections wholesale (new arrays/maps per change) instead of mutating them,
      // so plain Map/Set locals and deriveds are already reactive-safe.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  { files: ['sync/**'], rules: { 'no-restricted-imports': ['error', bannedInSync], 'no-restricted-globals': ['error', 'process', 'Buffer', 'require'] } },
);
