import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a running `pilot serve` (PILOT_URL, default http://127.0.0.1:7777).
const daemon = process.env.PILOT_URL ?? 'http://127.0.0.1:7777';

export default defineConfig({
  plugins: [react()],
  base: './',
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 2000 },
  worker: { format: 'es' },
  server: { proxy: { '/api': { target: daemon, changeOrigin: false } } },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
