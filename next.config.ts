import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native addons and Node-only mail libraries stay outside the server bundle.
  serverExternalPackages: ['better-sqlite3', 'pg', 'pino', 'mailparser', 'nodemailer', 'smtp-server', 'prom-client'],
  poweredByHeader: false,
  // For a look inside the client chunks (what the first-load JavaScript is made of): never on by default.
  productionBrowserSourceMaps: process.env.SEALPOST_SOURCE_MAPS === '1',
  experimental: {
    // TypeScript 7 (the native compiler) has no programmatic API; type-check through its CLI.
    useTypeScriptCli: true,
    // The proxy buffers request bodies and silently cuts them at this size (10 MB by default):
    // it must hold a 25 MB message (API) and its 33 MB envelope posted from message.html (/open).
    proxyClientMaxBodySize: '48mb',
    // unauthorized() and forbidden(): 401 and 403 pages from server components.
    authInterrupts: true,
  },
};

export default nextConfig;
