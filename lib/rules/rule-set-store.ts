import type { Kysely, Transaction } from 'kysely';
import type { z } from 'zod';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import type { TDatabase } from '../store/schema';
import { ZDefaultAction, ZRule, ZRuleSet, type TRuleSet } from './schema';

export type LoadRuleSetOptions = { db: Kysely<TDatabase>; tenantId: string };

// Validated sets by the exact stored text they came from: the relay reads the rows for every
// message (a change from the CLI or another instance counts at once) but validates a text once.
const validated = new Map<string, { text: string; set: TRuleSet }>();
const VALIDATED_MAX = 1000;

// The tenant's whole rule set, rules in priority order. Rows were validated when written; they
// are parsed again so a row edited by hand can never reach the matcher unchecked.
export async function loadRuleSet({ db, tenantId }: LoadRuleSetOptions): Promise<TRuleSet> {
  const [settings, rows] = await Promise.all([
    db.selectFrom('mail_rule_settings').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst(),
    db.selectFrom('mail_rules').select(['json']).where('tenant_id', '=', tenantId).orderBy('position').execute(),
  ]);
  const text = JSON.stringify([settings?.default_action ?? null, settings?.internal_domains ?? null, rows.map((r) => r.json)]);
  const cached = validated.get(tenantId);
  if (cached?.text === text) return structuredClone(cached.set);
  const set = ZRuleSet.parse({
    version: 1,
    defaultAction: settings ? ZDefaultAction.parse(JSON.parse(settings.default_action)) : { kind: 'pass' },
    internalDomains: settings ? JSON.parse(settings.internal_domains) : [],
    rules: rows.map((r) => ZRule.parse(JSON.parse(r.json))),
  });
  if (validated.size >= VALIDATED_MAX) validated.delete(validated.keys().next().value!);
  validated.set(tenantId, { text, set });
  return structuredClone(set);
}

export type UpdateRuleSetOptions = {
  db: TDb;
  tenantId: string;
  // Given the current set, returns the next one (unvalidated input); may throw an AppError.
  change: (current: TRuleSet) => unknown;
  // Called in the same transaction once the next set is written (the audit event of the change).
  onChanged?: (trx: Transaction<TDatabase>, sets: { before: TRuleSet; after: TRuleSet }) => Promise<void>;
  now?: number;
};

// Every change to a tenant's rules goes through here: the next set is validated as one (names
// unique, templates existing) and replaces the current one in one transaction, so a failed
// import or a concurrent change never leaves half a set.
export async function updateRuleSet({ db, tenantId, change, onChanged, now = Date.now() }: UpdateRuleSetOptions): Promise<TRuleSet> {
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('mail_rule_settings')
      .values({ tenant_id: tenantId, default_action: JSON.stringify({ kind: 'pass' }), internal_domains: '[]', updated_at: now })
      .onConflict((oc) => oc.column('tenant_id').doNothing())
      .execute();
    // Two changes at once on PostgreSQL: the second waits here and then sees the first's result.
    let lock = trx.selectFrom('mail_rule_settings').select('tenant_id').where('tenant_id', '=', tenantId);
    if (db.dialectName === 'postgres') lock = lock.forUpdate();
    await lock.execute();
    const current = await loadRuleSet({ db: trx, tenantId });
    const next = parseRuleSet(change(current));
    await assertTemplatesExist({ db: trx, tenantId, set: next });
    await trx.deleteFrom('mail_rules').where('tenant_id', '=', tenantId).execute();
    if (next.rules.length > 0) {
      await trx
        .insertInto('mail_rules')
        .values(
          next.rules.map((rule, i) => ({
            tenant_id: tenantId,
            position: i + 1,
            name: rule.name,
            json: JSON.stringify(rule),
            updated_at: now,
          })),
        )
        .execute();
    }
    await trx
      .updateTable('mail_rule_settings')
      .set({ default_action: JSON.stringify(next.defaultAction), internal_domains: JSON.stringify(next.internalDomains), updated_at: now })
      .where('tenant_id', '=', tenantId)
      .execute();
    await onChanged?.(trx, { before: current, after: next });
    return next;
  });
}

// Validates a whole set, naming each refused field by its path (`rules.2.conditions.0
// (subjectContains).words.1`), so the admin can find it in the file or the command line.
export function parseRuleSet(input: unknown): TRuleSet {
  const parsed = ZRuleSet.safeParse(input);
  if (!parsed.success) throw toInvalidRules(parsed.error, input, 'Invalid rules');
  return parsed.data;
}

export function toInvalidRules(error: z.ZodError, input: unknown, what: string): AppError {
  const problems = error.issues.slice(0, 10).map((issue) => `${describePath(issue.path, input)}: ${issue.message}`);
  return new AppError('BAD_REQUEST', `${what}: ${problems.join('; ')}`, { problems });
}

function describePath(path: PropertyKey[], input: unknown): string {
  if (path.length === 0) return '(root)';
  const parts: string[] = [];
  let node: unknown = input;
  for (const key of path) {
    node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    const type = parts.at(-1) === 'conditions' && node && typeof node === 'object' ? (node as { type?: unknown }).type : undefined;
    parts.push(typeof type === 'string' && type.length <= 40 ? `${String(key)} (${type})` : String(key));
  }
  return parts.join('.');
}

type AssertTemplatesExistOptions = { db: Kysely<TDatabase>; tenantId: string; set: TRuleSet };

// An encrypt action names a branding template of this tenant; a missing one would only surface
// when the first matching message is sealed.
async function assertTemplatesExist({ db, tenantId, set }: AssertTemplatesExistOptions): Promise<void> {
  const wanted: Array<{ field: string; template: string }> = [];
  if (set.defaultAction.kind === 'encrypt') wanted.push({ field: 'defaultAction.template', template: set.defaultAction.template });
  set.rules.forEach((rule, i) => {
    if (rule.action.kind === 'encrypt')
      wanted.push({ field: `rules.${i}.action.template (rule "${rule.name}")`, template: rule.action.template });
  });
  if (wanted.length === 0) return;
  const known = new Set((await db.selectFrom('branding').select('name').where('tenant_id', '=', tenantId).execute()).map((r) => r.name));
  const missing = wanted.filter((w) => !known.has(w.template));
  if (missing.length > 0) {
    const problems = missing.map(
      (m) => `${m.field}: no template named "${m.template}" (create it with \`sealpost branding set --template ${m.template}\`)`,
    );
    throw new AppError('BAD_REQUEST', `Invalid rules: ${problems.join('; ')}`, { problems });
  }
}
