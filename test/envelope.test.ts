import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compactDecrypt } from 'jose';
import {
  ENVELOPE_TYP,
  maxEnvelopeChars,
  openEnvelopeRecords,
  openEnvelopeWithKey,
  readEnvelopeHeader,
  RECORDS_TYP,
  sealCompactEnvelope,
  sealEnvelope,
} from '@/lib/envelope/envelope';
import { RECORD_BYTES, RECORD_DATA_BYTES, toBase64url } from '@/lib/envelope/envelope-records';
import { openMessage, openMessageStream } from '@/lib/envelope/open-message';
import { readEnvelopeRecords } from '@/lib/store/envelope-records';
import { purgeExpired, revokeMessage } from '@/lib/envelope/revoke-message';
import { deriveKey, openBytes, sealBytes } from '@/lib/envelope/aead';
import { addTenantKeyVersion, deriveTenantSubkey, getTenantKey } from '@/lib/envelope/tenant-keys';
import { unwrapContentKey } from '@/lib/envelope/content-key';
import { isAppError } from '@/lib/errors';
import { sendMessage } from '@/lib/messages/send-message';
import { checkpointAfterShred, getMessage } from '@/lib/store/messages';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, sampleEml, seedTenant, TEST_DIALECT, type TTestContext } from './helpers/context';

let ctx: TTestContext;
let tenant: TTenant;
let other: TTenant;
const MAX = maxEnvelopeChars(25 * 1024 * 1024);

beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx);
  other = await seedTenant(ctx);
});
afterAll(() => ctx?.close());
afterEach(() => vi.useRealTimers());

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

// The whole version 2 token of a stored message, as message.html carries it.
async function fullToken(messageId: string, head: string) {
  const parts: Buffer[] = [];
  for await (const text of toBase64url(readEnvelopeRecords(ctx.db, messageId))) parts.push(text);
  return `${head}${Buffer.concat(parts).toString('latin1')}`;
}

// A message sent now: `token` as the server stores it (the protected header alone, its records in
// envelope_records), `full` as message.html carries it.
async function sealed(raw = sampleEml(), t = tenant) {
  const sent = await sendMessage({ ctx, tenant: t, raw, deliver: false });
  const row = await getMessage(ctx.db, sent.messageId);
  const token = row!.envelope!;
  return { messageId: sent.messageId, token, full: await fullToken(sent.messageId, token), raw };
}

const open = (token: unknown, tenantId = tenant.id) => openMessage({ db: ctx.db, master: ctx.master, tenantId, token, maxChars: MAX });

async function expectRefused(promise: Promise<unknown>, code = 'ENVELOPE_INVALID') {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAppError(error), `expected an AppError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  if (code === 'ENVELOPE_INVALID') expect((error as Error).message).toBe('This message cannot be opened.');
}

describe('envelope', () => {
  it('round-trips the original MIME byte for byte, in records (version 2), stored and as message.html carries it', async () => {
    const { token, full, raw, messageId } = await sealed();
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({
      alg: 'dir',
      enc: 'A256GCM',
      typ: RECORDS_TYP,
      kid: messageId,
      tnt: tenant.id,
      rs: RECORD_BYTES,
      n: expect.any(String),
    });
    expect(Buffer.from(header.n, 'base64url')).toHaveLength(12);
    // Stored: the header alone, the records in envelope_records.
    expect(token.endsWith('.') && token.indexOf('.') === token.length - 1).toBe(true);
    expect(Buffer.from((await open(token)).mime).equals(raw)).toBe(true);
    expect(full.split('.')).toHaveLength(2);
    expect(Buffer.from((await open(full)).mime).equals(raw)).toBe(true);
  });

  it('still opens a version 1 envelope (one compact JWE) of a message sent before', async () => {
    const { messageId, raw } = await sealed();
    const row = await getMessage(ctx.db, messageId);
    const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id, version: row!.key_version });
    const contentKey = unwrapContentKey({ tenantKey, tenantId: tenant.id, messageId, wrapped: row!.wrapped_cek! });
    const old = await sealCompactEnvelope({ mime: raw, messageId, tenantId: tenant.id, contentKey });
    expect(readEnvelopeHeader({ token: old, tenantId: tenant.id, maxChars: MAX }).typ).toBe(ENVELOPE_TYP);
    expect(Buffer.from((await open(old)).mime).equals(raw)).toBe(true);
  });

  it('holds no readable body, attachment or subject', async () => {
    const { full: token } = await sealed(sampleEml({ subject: 'Quarterly secret subject' }));
    const decoded = token
      .split('.')
      .map((s) => Buffer.from(s, 'base64url').toString('latin1'))
      .join('\n');
    for (const secret of ['secret body', 'Quarterly secret subject', 'statement.pdf', 'alice@acme.example']) {
      expect(decoded).not.toContain(secret);
    }
  });

  it.each([0, 1])('refuses a token whose segment %i was tampered with, with the one generic error', async (index) => {
    const { full: token } = await sealed();
    const parts = token.split('.');
    const s = parts[index]!;
    if (index === 0) {
      // A header edit that still passes the allowlist: only authentication can catch it.
      const h = JSON.parse(Buffer.from(s, 'base64url').toString());
      parts[0] = b64({ ...h, exp: 4102444800 });
    } else if (s.length === 0) {
      parts[index] = 'AAAA';
    } else {
      const i = Math.floor(s.length / 2);
      parts[index] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    }
    await expectRefused(open(parts.join('.')));
  });

  it("refuses an envelope presented on another tenant's host", async () => {
    const { token } = await sealed();
    await expectRefused(open(token, other.id));
  });

  it('refuses an unknown kid, looked up and never interpolated', async () => {
    const { token } = await sealed();
    const [h, ...rest] = token.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
    for (const kid of [crypto.randomUUID(), "x' OR '1'='1", '../../etc/passwd', '']) {
      await expectRefused(open([b64({ ...header, kid }), ...rest].join('.')));
    }
  });

  it.each([
    ['none', { alg: 'none' }],
    ['RSA-OAEP', { alg: 'RSA-OAEP-256' }],
    ['RSA1_5', { alg: 'RSA1_5' }],
    ['PBES2 with a huge p2c', { alg: 'PBES2-HS512+A256KW', p2c: 2_000_000_000, p2s: 'c2FsdA' }],
    ['ECDH-ES with an embedded key', { alg: 'ECDH-ES', epk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } }],
    ['A128GCM', { enc: 'A128GCM' }],
    ['A256CBC-HS512', { enc: 'A256CBC-HS512' }],
    ['zip', { zip: 'DEF' }],
    ['crit', { crit: ['exp'] }],
    ['jku', { jku: 'https://attacker.example/keys' }],
    ['another typ', { typ: 'JWT' }],
    ['no typ', { typ: undefined }],
  ])('refuses a header with %s', async (_name, change) => {
    const { token } = await sealed();
    const [h, ...rest] = token.split('.');
    const header = { ...JSON.parse(Buffer.from(h!, 'base64url').toString()), ...change };
    await expectRefused(open([b64(header), ...rest].join('.')));
  });

  it('refuses a token over the size limit before parsing it', async () => {
    const huge = `${'A'.repeat(MAX)}..AAAA.AAAA.AAAA`;
    await expectRefused(open(huge));
    await expectRefused(openMessage({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: (await sealed()).token, maxChars: 100 }));
  });

  it.each([[null], [42], [{}], [''], ['a.b'], ['....'], ['!!!!.x.y.z.w']])('refuses %j', async (value) => {
    await expectRefused(open(value));
  });

  it('expires: the envelope opens until its expiry, then never again and its key is shredded', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T12:00:00Z'), toFake: ['Date'] });
    const branded = await seedTenant(ctx);
    await setBranding({ db: ctx.db, tenantId: branded.id, input: { expiryDays: 7 } });
    const { token, messageId } = await sealed(sampleEml({ from: `Alice <alice@${branded.mail_domain}>` }), branded);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header.exp).toBe(Date.parse('2026-11-30T12:00:00Z') / 1000);
    vi.setSystemTime(new Date('2026-11-30T11:59:59Z'));
    await expect(open(token, branded.id)).resolves.toBeTruthy();
    vi.setSystemTime(new Date('2026-11-30T12:00:00Z'));
    await expectRefused(open(token, branded.id), 'ENVELOPE_EXPIRED');
    expect((await getMessage(ctx.db, messageId))!.wrapped_cek).toBeNull();
  });

  it('purgeExpired shreds every expired content key', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    const branded = await seedTenant(ctx);
    await setBranding({ db: ctx.db, tenantId: branded.id, input: { expiryDays: 1 } });
    const a = await sealed(sampleEml({ from: `Alice <alice@${branded.mail_domain}>` }), branded);
    vi.setSystemTime(new Date('2026-01-03T00:00:00Z'));
    expect(await purgeExpired({ db: ctx.db })).toBeGreaterThanOrEqual(1);
    const row = await getMessage(ctx.db, a.messageId);
    expect(row!.wrapped_cek).toBeNull();
    expect(row!.envelope).toBeNull();
    await expectRefused(open(a.token, branded.id), 'ENVELOPE_EXPIRED');
  });

  it('revoked: unreadable for good, even to someone holding the whole database and the master key', async () => {
    const { token, messageId } = await sealed();
    const before = await getMessage(ctx.db, messageId);
    const wrapped = Buffer.from(before!.wrapped_cek!);
    await checkpointAfterShred(ctx.db);
    // The search below can see the key while it exists.
    if (TEST_DIALECT === 'sqlite') expect(fs.readFileSync(path.join(ctx.dataDir, 'sealpost.db')).indexOf(wrapped)).toBeGreaterThan(-1);
    await revokeMessage({ db: ctx.db, messageId });
    await expectRefused(open(token), 'ENVELOPE_REVOKED');
    const after = await getMessage(ctx.db, messageId);
    expect(after!.wrapped_cek).toBeNull();
    expect(after!.revoked_at).toBeTypeOf('number');
    // The destroyed key is nowhere on disk: not in the database file, not in its WAL.
    for (const file of ['sealpost.db', 'sealpost.db-wal']) {
      const p = path.join(ctx.dataDir, file);
      if (fs.existsSync(p)) expect(fs.readFileSync(p).indexOf(wrapped)).toBe(-1);
    }
  });

  it('tenant key rotation: new mail uses the new version, old mail still opens', async () => {
    const t = await seedTenant(ctx);
    const first = await sealed(sampleEml({ from: `Alice <alice@${t.mail_domain}>` }), t);
    const version = await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: t.id });
    expect(version).toBe(2);
    const second = await sealed(sampleEml({ from: `Alice <alice@${t.mail_domain}>` }), t);
    expect((await getMessage(ctx.db, first.messageId))!.key_version).toBe(1);
    expect((await getMessage(ctx.db, second.messageId))!.key_version).toBe(2);
    expect(Buffer.from((await open(first.token, t.id)).mime).equals(first.raw)).toBe(true);
    expect(Buffer.from((await open(second.token, t.id)).mime).equals(second.raw)).toBe(true);
  });

  it('seals with jose exactly what openMessage accepts and nothing looser', async () => {
    const key = crypto.randomBytes(32);
    const token = await sealEnvelope({ mime: Buffer.from('x'), messageId: crypto.randomUUID(), tenantId: tenant.id, contentKey: key });
    // Sealed with a key the server does not hold: the message id is unknown, so it is refused.
    await expectRefused(open(token));
  });
});

describe('tenant subkeys and sealing in parts', () => {
  it('derives each subkey once per tenant key version, equal to deriveKey, distinct per purpose and per key', async () => {
    const current = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
    const outbox = deriveTenantSubkey(current, 'outbox');
    expect(outbox.equals(deriveKey(current.key, 'outbox'))).toBe(true);
    expect(deriveTenantSubkey({ ...current }, 'outbox')).toBe(outbox);
    expect(deriveTenantSubkey(current, 'subject').equals(outbox)).toBe(false);
    const othersKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: other.id });
    expect(deriveTenantSubkey(othersKey, 'outbox').equals(outbox)).toBe(false);
  });

  it('seals parts as their concatenation', () => {
    const key = crypto.randomBytes(32);
    const parts = [Buffer.from('Received: from a\r\n'), crypto.randomBytes(50 * 1024), Buffer.alloc(0)];
    const sealed = sealBytes({ key, plaintext: parts, aad: 'test' });
    expect(openBytes({ key, sealed, aad: 'test' }).equals(Buffer.concat(parts))).toBe(true);
    expect(sealed.length).toBe(1 + 12 + Buffer.concat(parts).length + 16);
    expect(() => openBytes({ key, sealed, aad: 'other' })).toThrow();
  });
});

describe('version 1 envelopes (sent before 0022): opening agrees with jose', () => {
  const tenantId = crypto.randomUUID();
  const seal = async (mime: Uint8Array) => {
    const contentKey = crypto.randomBytes(32);
    const messageId = crypto.randomUUID();
    const token = await sealCompactEnvelope({ mime, messageId, tenantId, contentKey });
    return { token, contentKey, header: readEnvelopeHeader({ token, tenantId, maxChars: MAX }) };
  };

  // Sizes around base64 padding and the 1 Mi-character decoding slice.
  it.each([0, 1, 2, 3, 4, 5, 786_431, 786_432, 786_433, 3 * 1024 * 1024 + 7])(
    'opens a %i-byte envelope exactly as jose does',
    async (size) => {
      const mime = crypto.randomBytes(size);
      const { token, contentKey, header } = await seal(mime);
      const ours = await openEnvelopeWithKey({ token, header, contentKey });
      const theirs = await compactDecrypt(token, contentKey, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      expect(Buffer.from(ours).equals(mime)).toBe(true);
      expect(Buffer.from(theirs.plaintext).equals(mime)).toBe(true);
    },
  );

  it.each([
    ['a + in the IV', (t: string[]) => (t[2] = `+${t[2]!.slice(1)}`)],
    ['a / in the tag', (t: string[]) => (t[4] = `${t[4]!.slice(0, -1)}/`)],
    ['a changed ciphertext character', (t: string[]) => (t[3] = `${t[3]![0] === 'A' ? 'B' : 'A'}${t[3]!.slice(1)}`)],
    ['padding', (t: string[]) => (t[3] = `${t[3]}==`)],
    ['whitespace in the ciphertext', (t: string[]) => (t[3] = `${t[3]!.slice(0, 8)} \n${t[3]!.slice(8)}`)],
    ['a non-ASCII character', (t: string[]) => (t[3] = `${t[3]!.slice(0, 8)}é${t[3]!.slice(8)}`)],
    ['a short tag', (t: string[]) => (t[4] = t[4]!.slice(0, 20))],
    ['a long IV', (t: string[]) => (t[2] = `${t[2]}AAAA`)],
    ['a sixth segment', (t: string[]) => t.push('AAAA')],
    ['the wrong key', null],
  ] as const)('refuses %s', async (_name, mutate) => {
    const { token, contentKey, header } = await seal(crypto.randomBytes(1000));
    const parts = token.split('.');
    if (mutate) mutate(parts);
    const key = mutate ? contentKey : crypto.randomBytes(32);
    const error = await openEnvelopeWithKey({ token: parts.join('.'), header, contentKey: key }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAppError(error) && error.code).toBe('ENVELOPE_INVALID');
  });
});

describe('version 2 envelopes: records of 64 KiB, each with its own tag', () => {
  const tenantId = crypto.randomUUID();
  const seal = async (mime: Uint8Array) => {
    const contentKey = crypto.randomBytes(32);
    const token = await sealEnvelope({ mime, messageId: crypto.randomUUID(), tenantId, contentKey });
    return { token, contentKey, header: readEnvelopeHeader({ token, tenantId, maxChars: MAX }) };
  };
  // The token's records as bytes, and a token made of (changed) records again.
  const recordsOf = (token: string) => {
    const body = Buffer.from(token.slice(token.indexOf('.') + 1), 'base64url');
    const records: Buffer[] = [];
    for (let at = 0; at < body.length; at += RECORD_BYTES) records.push(Buffer.from(body.subarray(at, at + RECORD_BYTES)));
    return records;
  };
  const withRecords = (token: string, records: Buffer[]) =>
    `${token.slice(0, token.indexOf('.') + 1)}${Buffer.concat(records).toString('base64url')}`;
  // What an opener released before it failed (or all of it), and the error.
  async function drain(token: string, header: ReturnType<typeof readEnvelopeHeader>, contentKey: Buffer) {
    const released: Buffer[] = [];
    try {
      for await (const piece of openEnvelopeRecords({ token, header, contentKey })) released.push(piece);
      return { released: Buffer.concat(released), error: null };
    } catch (error) {
      return { released: Buffer.concat(released), error };
    }
  }

  it.each([0, 1, RECORD_DATA_BYTES - 1, RECORD_DATA_BYTES, RECORD_DATA_BYTES + 1, 3 * RECORD_DATA_BYTES, 3 * RECORD_DATA_BYTES + 5])(
    'round-trips %i bytes: every record but the last full, the last 17 bytes to a full record',
    async (size) => {
      const mime = crypto.randomBytes(size);
      const { token, contentKey, header } = await seal(mime);
      const records = recordsOf(token);
      expect(records.length).toBe(Math.floor(Math.max(size - 1, 0) / RECORD_DATA_BYTES) + 1);
      for (const r of records.slice(0, -1)) expect(r.length).toBe(RECORD_BYTES);
      expect(records.at(-1)!.length).toBe(size - (records.length - 1) * RECORD_DATA_BYTES + 17);
      expect(token.length).toBeLessThanOrEqual(maxEnvelopeChars(size));
      expect(Buffer.from(await openEnvelopeWithKey({ token, header, contentKey })).equals(mime)).toBe(true);
    },
  );

  const mime = crypto.randomBytes(3 * RECORD_DATA_BYTES + 1000);
  const flip = (records: Buffer[], i: number, at: number) => {
    records[i]![at]! ^= 1;
    return records;
  };
  const cases: [string, (r: Buffer[]) => Buffer[], number][] = [
    // [what, change, how many records' data are released before the refusal]
    ['a flipped ciphertext byte in record 1', (r) => flip(r, 1, 100), 1],
    ['a flipped tag byte in record 2', (r) => flip(r, 2, r[2]!.length - 1), 2],
    ['a flipped byte in the last record', (r) => flip(r, 3, 0), 3],
    ['records 1 and 2 swapped', (r) => [r[0]!, r[2]!, r[1]!, r[3]!], 1],
    ['record 0 repeated', (r) => [r[0]!, r[0]!, r[1]!, r[2]!, r[3]!], 1],
    ['record 1 dropped', (r) => [r[0]!, r[2]!, r[3]!], 1],
    ['the last record dropped (truncated at a record boundary)', (r) => r.slice(0, 3), 3],
    ['the last record cut short', (r) => [...r.slice(0, 3), r[3]!.subarray(0, 500)], 3],
    ['the last record cut to its tag', (r) => [...r.slice(0, 3), r[3]!.subarray(r[3]!.length - 16)], 3],
    ['a full record cut short and made last', (r) => [r[0]!, r[1]!.subarray(0, RECORD_BYTES - 1)], 1],
    // The short last record and what follows read as one record, which fails.
    ['bytes after the last record', (r) => [...r, Buffer.from('AAAA')], 3],
    ['the last record repeated', (r) => [...r, r[3]!], 3],
    ['no records at all', () => [], 0],
  ];
  it.each(cases)('refuses %s with the one generic error, releasing nothing of a record that failed', async (_name, change, good) => {
    const { token, contentKey, header } = await seal(mime);
    const { released, error } = await drain(withRecords(token, change(recordsOf(token))), header, contentKey);
    expect(isAppError(error) && error.code).toBe('ENVELOPE_INVALID');
    // Exactly the records before the failure were released, each whole and authentic.
    expect(released.equals(mime.subarray(0, Math.min(good * RECORD_DATA_BYTES, mime.length)))).toBe(true);
  });

  it('writes base64url text of bytes cut anywhere exactly as of the bytes whole', async () => {
    for (const sizes of [[], [0], [1], [2], [1, 1, 1], [2, 2], [1, 200_000, 2], [65_536, 65_536, 5], [49_153, 1, 98_305]]) {
      const parts = sizes.map((n) => crypto.randomBytes(n));
      const out: Buffer[] = [];
      for await (const text of toBase64url(parts)) out.push(text);
      expect(Buffer.concat(out).toString('latin1')).toBe(Buffer.concat(parts).toString('base64url'));
    }
  });

  it('refuses bytes after a last record that is full, having released the records before', async () => {
    const exact = crypto.randomBytes(2 * RECORD_DATA_BYTES);
    const { token, contentKey, header } = await seal(exact);
    const records = recordsOf(token);
    expect(records.map((r) => r.length)).toEqual([RECORD_BYTES, RECORD_BYTES]);
    const { released, error } = await drain(withRecords(token, [...records, crypto.randomBytes(100)]), header, contentKey);
    expect(isAppError(error) && error.code).toBe('ENVELOPE_INVALID');
    expect(released.equals(exact)).toBe(true);
  });

  it.each([
    ['another record size', (h: Record<string, unknown>) => ({ ...h, rs: 4096 })],
    ['no base nonce', (h: Record<string, unknown>) => ({ ...h, n: undefined })],
    ['a short base nonce', (h: Record<string, unknown>) => ({ ...h, n: 'AAAA' })],
    ['another base nonce', (h: Record<string, unknown>) => ({ ...h, n: 'AAAAAAAAAAAAAAAA' })],
    ['an unknown field', (h: Record<string, unknown>) => ({ ...h, zip: 'DEF' })],
    ['the version 1 type', (h: Record<string, unknown>) => ({ ...h, typ: ENVELOPE_TYP })],
  ])('refuses a header with %s', async (_name, change) => {
    const { token, contentKey } = await seal(mime);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    const changed = `${b64(change(header))}.${token.split('.')[1]}`;
    const error = await Promise.resolve()
      .then(async () =>
        openEnvelopeWithKey({ token: changed, header: readEnvelopeHeader({ token: changed, tenantId, maxChars: MAX }), contentKey }),
      )
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isAppError(error) && error.code).toBe('ENVELOPE_INVALID');
  });

  it.each([
    ['padding', (b: string) => `${b}==`],
    ['whitespace', (b: string) => `${b.slice(0, 8)} \n${b.slice(8)}`],
    ['a non-ASCII character', (b: string) => `${b.slice(0, 8)}é${b.slice(8)}`],
    ['a third segment', (b: string) => `${b}.AAAA`],
  ])('refuses records text with %s', async (_name, change) => {
    const { token, contentKey, header } = await seal(crypto.randomBytes(1000));
    const [head, body] = token.split('.') as [string, string];
    const error = await Promise.resolve()
      .then(() => openEnvelopeWithKey({ token: `${head}.${change(body)}`, header, contentKey }))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isAppError(error) && error.code).toBe('ENVELOPE_INVALID');
  });

  it('a stored envelope whose rows were tampered with, reordered or cut is refused', async () => {
    const big = Buffer.concat([
      Buffer.from('From: Alice <alice@acme.example>\r\nTo: bob@partner.example\r\nSubject: Big\r\nMIME-Version: 1.0\r\n\r\n'),
      Buffer.from(
        crypto
          .randomBytes(1536 * 1024)
          .toString('base64')
          .replace(/.{76}/g, '$&\r\n'),
      ),
    ]);
    for (const damage of ['flip', 'swap', 'drop-last'] as const) {
      const { messageId, token, raw } = await sealed(big);
      const rows = await ctx.db.selectFrom('envelope_records').selectAll().where('message_id', '=', messageId).orderBy('seq').execute();
      expect(rows.length).toBeGreaterThanOrEqual(2);
      // Whole, it opens to the message (each row written from the one buffer the sealer reuses).
      expect(Buffer.from((await open(token)).mime).equals(raw)).toBe(true);
      if (damage === 'flip') {
        const data = Buffer.from(rows[1]!.data);
        data[1000]! ^= 1;
        await ctx.db.updateTable('envelope_records').set({ data }).where('message_id', '=', messageId).where('seq', '=', 1).execute();
      } else if (damage === 'swap') {
        await ctx.db
          .updateTable('envelope_records')
          .set({ data: rows[1]!.data })
          .where('message_id', '=', messageId)
          .where('seq', '=', 0)
          .execute();
        await ctx.db
          .updateTable('envelope_records')
          .set({ data: rows[0]!.data })
          .where('message_id', '=', messageId)
          .where('seq', '=', 1)
          .execute();
      } else {
        await ctx.db
          .deleteFrom('envelope_records')
          .where('message_id', '=', messageId)
          .where('seq', '=', rows.length - 1)
          .execute();
      }
      await expectRefused(open(token));
      // As a stream: what comes out before the refusal is the message's own beginning, no more.
      const { plaintext } = await openMessageStream({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token, maxChars: MAX });
      const released: Buffer[] = [];
      await expectRefused(
        (async () => {
          for await (const piece of plaintext) released.push(piece);
        })(),
      );
      const out = Buffer.concat(released);
      expect(raw.subarray(0, out.length).equals(out)).toBe(true);
      expect(out.length).toBeLessThan(raw.length);
    }
  });

  it('the header alone opens only what the server keeps: not for a message it keeps no copy of', async () => {
    const branded = await seedTenant(ctx);
    await setBranding({ db: ctx.db, tenantId: branded.id, input: { delivery: { link: false, attachment: true } } });
    const sent = await sendMessage({
      ctx,
      tenant: branded,
      raw: sampleEml({ from: `Alice <alice@${branded.mail_domain}>` }),
      deliver: false,
    });
    const row = await getMessage(ctx.db, sent.messageId);
    expect(row!.envelope).toBeNull();
    const header = {
      alg: 'dir',
      enc: 'A256GCM',
      typ: RECORDS_TYP,
      kid: sent.messageId,
      tnt: branded.id,
      rs: RECORD_BYTES,
      n: 'AAAAAAAAAAAAAAAA',
    };
    await expectRefused(open(`${b64(header)}.`, branded.id));
  });

  it('revocation deletes the stored records with the key', async () => {
    const { messageId, token } = await sealed();
    expect((await ctx.db.selectFrom('envelope_records').select('seq').where('message_id', '=', messageId).execute()).length).toBe(1);
    await revokeMessage({ db: ctx.db, messageId });
    expect(await ctx.db.selectFrom('envelope_records').select('seq').where('message_id', '=', messageId).execute()).toEqual([]);
    await expectRefused(open(token), 'ENVELOPE_REVOKED');
  });
});
