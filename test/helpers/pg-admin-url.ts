import os from 'node:os';

// The test PostgreSQL server's maintenance database, from which tests create their own.
export const PG_ADMIN_URL = process.env.SEALPOST_TEST_PG_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/postgres`;
