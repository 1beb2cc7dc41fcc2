import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const shared = {
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./', import.meta.url)),
      'server-only': fileURLToPath(new URL('./test/helpers/server-only.ts', import.meta.url)),
    },
  },
};

// The suites that exercise the store run twice: on SQLite (the embedded default) and on
// PostgreSQL at 127.0.0.1:5432 (scale-out). The end-to-end suites run on SQLite.
const STORE_SUITES = [
  'test/envelope.test.ts',
  'test/passcode-limits.test.ts',
  'test/federated.test.ts',
  'test/sessions.test.ts',
  'test/outbox.test.ts',
  'test/passcodes.test.ts',
  'test/corpus-mime.test.ts',
  'test/corpus-jose.test.ts',
  'test/tenants.test.ts',
  'test/address-delivery.test.ts',
  'test/housekeeping.test.ts',
  'test/rules.test.ts',
  'test/connectors.test.ts',
  'test/relay.test.ts',
  'test/migrations.test.ts',
  'test/reader-view.test.ts',
  'test/dkim.test.ts',
  'test/admin.test.ts',
  'test/smime.test.ts',
];

export default defineConfig({
  ...shared,
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { ...shared, test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { LOG_LEVEL: 'silent' } } },
      { ...shared, test: { name: 'postgres', include: STORE_SUITES, env: { LOG_LEVEL: 'silent', SEALPOST_TEST_DB: 'postgres' } } },
    ],
  },
});
