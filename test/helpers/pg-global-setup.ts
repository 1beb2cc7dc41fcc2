import crypto from 'node:crypto';
import pg from 'pg';
import { PG_ADMIN_URL } from './pg-admin-url';

// The `postgres` project's run: a name its installations' databases share (test/helpers/
// installation.ts), and, when the run ends, those databases dropped. Another run's are left alone.
export default function setup() {
  const run = crypto.randomBytes(4).toString('hex');
  process.env.SEALPOST_E2E_RUN = run;
  return async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const prefix = `sealpost_e2e_${run}_`;
      const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1)', [prefix]);
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
}
