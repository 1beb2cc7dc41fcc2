import { sql } from 'kysely';
import { publicApiRoute } from '@/lib/http/api-route';
import { getContext } from '@/lib/server/context';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/health – the process is alive and its database answers
export const GET = publicApiRoute(
  async () => {
    try {
      const ctx = await getContext();
      await sql`select 1`.execute(ctx.db);
      return Response.json({ status: 'ok' });
    } catch {
      // Not an error to map: an unreachable database is the answer this route exists to give.
      return Response.json({ status: 'unavailable' }, { status: 503 });
    }
  },
  { route: 'GET /api/health' },
);
