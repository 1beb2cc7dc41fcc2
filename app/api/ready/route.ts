import { publicApiRoute } from '@/lib/http/api-route';
import { getContext } from '@/lib/server/context';
import { listPendingMigrations } from '@/lib/store/db';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/ready – this instance can serve: the database answers and every migration has run
// (a load balancer sends traffic only after this says so; /api/health only says it is alive)
export const GET = publicApiRoute(
  async () => {
    try {
      const ctx = await getContext();
      const pending = await listPendingMigrations(ctx.db);
      if (pending.length) return Response.json({ status: 'migrating', pending: pending.length }, { status: 503 });
      return Response.json({ status: 'ready' });
    } catch {
      // Not an error to map: an unreachable database is the answer this route exists to give.
      return Response.json({ status: 'unavailable' }, { status: 503 });
    }
  },
  { route: 'GET /api/ready' },
);
