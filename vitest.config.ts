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

// Every suite that stores anything runs twice: on SQLite (the embedded default) and on
// PostgreSQL at 127.0.0.1:5432 (scale-out), the end-to-end suites included (each installation a
// test starts gets a database of its own there: test/helpers/installation.ts). These have no
// database to choose, or are about one of them only.
const NO_DATABASE = [
  'test/address-list.test.ts',
  'test/architecture.test.ts',
  'test/corpus-address.test.ts',
  'test/corpus-xss.test.ts',
  'test/errors.test.ts',
  'test/is-message-openable.test.ts',
  'test/layout-stylesheets.test.ts',
  'test/parse-message.test.ts',
  'test/portal-i18n.test.ts',
];
// SQLite's own: its WAL checkpointer.
const SQLITE_ONLY = ['test/wal-checkpointer.test.ts'];
// Several instances on one PostgreSQL database behind nginx: PostgreSQL's by nature.
const POSTGRES_ONLY = ['test/e2e-cluster.test.ts'];

export default defineConfig({
  ...shared,
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { ...shared, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: POSTGRES_ONLY, env: { LOG_LEVEL: 'silent' } } },
      {
        ...shared,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: [...NO_DATABASE, ...SQLITE_ONLY],
          globalSetup: ['test/helpers/pg-global-setup.ts'],
          env: { LOG_LEVEL: 'silent', SEALPOST_TEST_DB: 'postgres' },
        },
      },
    ],
  },
});
