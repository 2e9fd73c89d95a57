// Vite builds the client into dist/: index.html plus content-hashed files under assets/, which
// ingress serves as immutable. `npm run dev` proxies the API and WebSocket to a local ingress.
import { defineConfig } from 'vite';

const backend = process.env.CHATPIPE_DEV_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2020',
  },
  server: {
    proxy: {
      '/api': backend,
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
});
