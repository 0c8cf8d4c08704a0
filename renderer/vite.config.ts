import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The same build is served by Electron's app:// protocol and by the station's HTTP server, so all
// asset URLs are relative ('./assets/…').
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // No data: URIs and no inline polyfill: everything is a file under 'self' for the CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'chrome120',
    sourcemap: false,
  },
  server: { host: '127.0.0.1', strictPort: true },
});
