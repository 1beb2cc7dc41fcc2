import { exportAuditEvents } from '@/lib/admin/export-audit-events';
import { ZAuditSearch } from '@/lib/admin/list-audit-events';
import { adminRoute } from '@/lib/http/admin-route';
import { streamedDownload } from '@/lib/http/streamed-download';

export const runtime = 'nodejs';

// GET /admin/audit/export?format=csv|jsonl&<filters> – the filtered log, streamed page by page
export const GET = adminRoute<{ host: string }, { role: 'auditor' }>(
  async ({ request, ctx, tenant }) => {
    const params = new URL(request.url).searchParams;
    const { after: _after, ...search } = ZAuditSearch.parse(Object.fromEntries(params));
    const format = params.get('format') === 'jsonl' ? 'jsonl' : 'csv';
    const day = new Date().toISOString().slice(0, 10);
    return streamedDownload({
      chunks: exportAuditEvents({ db: ctx.db, tenantId: tenant.id, search, format }),
      contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      filename: `audit-${tenant.slug}-${day}.${format}`,
    });
  },
  { access: { role: 'auditor' }, what: 'audit export' },
);
