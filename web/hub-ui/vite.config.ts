/**
 * Vite build of the hub's web UI: Preact, output to dist/hub-ui/ (served by
 * src/registry/ui/static.ts). No inline scripts or styles, so the hub's CSP can forbid them.
 */
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: fileURLToPath(new URL('../../dist/hub-ui', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npm run dev:ui` against a running hub: GANTRY_HUB=http://127.0.0.1:5000
    proxy: { '/api': process.env.GANTRY_HUB ?? 'http://127.0.0.1:5000' },
  },
});
