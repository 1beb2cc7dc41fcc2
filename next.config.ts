import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native addons and Node-only mail libraries stay outside the server bundle.
  serverExternalPackages: ['better-sqlite3', 'pg', 'pino', 'mailparser', 'nodemailer', 'smtp-server'],
  poweredByHeader: false,
  experimental: {
    // TypeScript 7 (the native compiler) has no programmatic API; type-check through its CLI.
    useTypeScriptCli: true,
    // unauthorized() and forbidden(): 401 and 403 pages from server components.
    authInterrupts: true,
  },
};

export default nextConfig;
