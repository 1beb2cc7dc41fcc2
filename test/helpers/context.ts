import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '@/lib/env';
import { clearTenantKeyCache } from '@/lib/envelope/tenant-keys';
import { createContext, type TContext } from '@/lib/server/context';
import { createTenant, type TTenant } from '@/lib/tenants/tenants';

export const makeTempDir = (prefix = 'sealpost-test-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

export type TTestContext = TContext & { dataDir: string; close(): Promise<void> };

// A real database file and key file in a fresh directory, configured as `npm start` would be.
export async function createTestContext(env: Record<string, string> = {}): Promise<TTestContext> {
  const dataDir = makeTempDir();
  clearTenantKeyCache();
  const config = parseConfig({ SEALPOST_DATA_DIR: dataDir, SEALPOST_DEMO_TENANT: 'off', ...env });
  const ctx = await createContext({ config });
  return { ...ctx, dataDir, close: () => ctx.db.destroy() };
}

let counter = 0;
export async function seedTenant(ctx: TContext, overrides: { slug?: string; mailDomain?: string } = {}): Promise<TTenant> {
  counter += 1;
  return createTenant({ db: ctx.db, master: ctx.master, slug: overrides.slug ?? `t${counter}-${process.pid}`, name: 'Acme Bank', mailDomain: overrides.mailDomain ?? 'acme.example' });
}

export const sampleEml = ({ to = ['bob@gmail.com', 'carol@yahoo.com'], subject = 'Your statement', attachment = true, from = 'Alice Example <alice@acme.example>' } = {}) =>
  Buffer.from(
    [
      `From: ${from}`,
      `To: ${to.join(', ')}`,
      `Subject: ${subject}`,
      'Message-ID: <orig-1@acme.example>',
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The secret body: account 12345678.',
      ...(attachment
        ? ['--b1', 'Content-Type: application/pdf; name="statement.pdf"', 'Content-Disposition: attachment; filename="statement.pdf"', 'Content-Transfer-Encoding: base64', '', Buffer.from('%PDF-1.4 secret attachment bytes').toString('base64')]
        : []),
      '--b1--',
      '',
    ].join('\r\n'),
  );
