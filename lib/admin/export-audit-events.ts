import { stringify } from 'csv-stringify/sync';
import type { TDb } from '../store/db';
import { selectAuditEvents, type TAuditRow, type TAuditSearch } from './list-audit-events';

export type TAuditExportFormat = 'csv' | 'jsonl';

// Rows read per query: the export holds one page at a time, whatever the log's length.
export const EXPORT_PAGE_ROWS = 1000;

const CSV_COLUMNS = ['id', 'at', 'type', 'message_id', 'actor', 'data'];

// A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): an
// address or rule name chosen by an outsider must stay text.
const defuse = (value: string | null) => (value && /^[=+\-@\t\r]/.test(value) ? `'${value}` : (value ?? ''));

const toRecord = (r: TAuditRow) => ({
  id: r.id,
  at: new Date(r.at).toISOString(),
  type: r.type,
  message_id: r.messageId,
  actor: r.actor,
  data: r.data ? (JSON.parse(r.data) as unknown) : null,
});

export type ExportAuditEventsOptions = { db: TDb; tenantId: string; search: Omit<TAuditSearch, 'after'>; format: TAuditExportFormat };

// The filtered log as text chunks, one keyset page each, read only as the consumer asks for more
// (a streamed response pulls them): memory stays one page however many rows there are.
export async function* exportAuditEvents({ db, tenantId, search, format }: ExportAuditEventsOptions): AsyncGenerator<string> {
  if (format === 'csv') yield stringify([CSV_COLUMNS]);
  let after: string | undefined;
  for (;;) {
    const rows = await selectAuditEvents({ db, tenantId, search: { ...search, after }, limit: EXPORT_PAGE_ROWS });
    if (rows.length === 0) return;
    if (format === 'jsonl') yield rows.map((r) => `${JSON.stringify(toRecord(r))}\n`).join('');
    else yield stringify(rows.map((r) => [r.id, new Date(r.at).toISOString(), r.type, r.messageId ?? '', defuse(r.actor), defuse(r.data)]));
    if (rows.length < EXPORT_PAGE_ROWS) return;
    after = String(rows.at(-1)!.id);
  }
}
