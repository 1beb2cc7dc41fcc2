import { sql } from 'kysely';
import { getContext } from '@/lib/server/context';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/health – the database answers
export async function GET() {
  try {
    const ctx = await getContext();
    await sql`select 1`.execute(ctx.db);
    return Response.json({ status: 'ok' });
  } catch {
    return Response.json({ status: 'unavailable' }, { status: 503 });
  }
}
