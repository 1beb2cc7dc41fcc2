import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compactDecrypt } from 'jose';
import { ENVELOPE_TYP, maxEnvelopeChars, openEnvelopeWithKey, readEnvelopeHeader, sealEnvelope } from '@/lib/envelope/envelope';
import { openMessage } from '@/lib/envelope/open-message';
import { purgeExpired, revokeMessage } from '@/lib/envelope/revoke-message';
import { deriveKey, openBytes, sealBytes } from '@/lib/envelope/aead';
import { addTenantKeyVersion, deriveTenantSubkey, getTenantKey } from '@/lib/envelope/tenant-keys';
import { isAppError } from '@/lib/errors';
import { sendMessage } from '@/lib/messages/send-message';
import { checkpointAfterShred, getMessage } from '@/lib/store/messages';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import {
  compactSource,
  decryptEnvelopeStream,
  envelopeString,
  openEnvelopeWhole,
  PART_BYTES,
  readEnvelopeFrame,
  releaseEnvelopeStream,
  sealEnvelopeParts,
  type TEnvelopeSource,
} from '@/lib/envelope/envelope-stream';
import { storedEnvelopeSource } from '@/lib/store/envelope-parts';
import { createTestContext, sampleEml, seedTenant, TEST_DIALECT, type TTestContext } from './helpers/context';
import { readStoredEnvelope } from './helpers/stored-envelope';

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

async function sealed(raw = sampleEml(), t = tenant) {
  const sent = await sendMessage({ ctx, tenant: t, raw, deliver: false });
  return { messageId: sent.messageId, token: await readStoredEnvelope(ctx.db, sent.messageId), raw };
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
  it('round-trips the original MIME byte for byte, with our exact JWE profile', async () => {
    const { token, raw, messageId } = await sealed();
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', typ: ENVELOPE_TYP, kid: messageId, tnt: tenant.id });
    expect(token.split('.')[1]).toBe('');
    const opened = await open(token);
    expect(Buffer.from(opened.mime).equals(raw)).toBe(true);
  });

  it('holds no readable body, attachment or subject', async () => {
    const { token } = await sealed(sampleEml({ subject: 'Quarterly secret subject' }));
    const decoded = token
      .split('.')
      .map((s) => Buffer.from(s, 'base64url').toString('latin1'))
      .join('\n');
    for (const secret of ['secret body', 'Quarterly secret subject', 'statement.pdf', 'alice@acme.example']) {
      expect(decoded).not.toContain(secret);
    }
  });

  it.each([0, 1, 2, 3, 4])('refuses a token whose segment %i was tampered with, with the one generic error', async (index) => {
    const { token } = await sealed();
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
    expect(await ctx.db.selectFrom('envelope_parts').select('seq').where('message_id', '=', a.messageId).execute()).toEqual([]);
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

describe('opening agrees with jose', () => {
  const tenantId = crypto.randomUUID();
  const seal = async (mime: Uint8Array) => {
    const contentKey = crypto.randomBytes(32);
    const messageId = crypto.randomUUID();
    const token = await sealEnvelope({ mime, messageId, tenantId, contentKey });
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

describe('the envelope stored and opened in parts', () => {
  const tenantId = crypto.randomUUID();
  const jose = (token: string, key: Uint8Array) =>
    compactDecrypt(token, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
  const sealInParts = (mime: Uint8Array) => {
    const contentKey = crypto.randomBytes(32);
    const messageId = crypto.randomUUID();
    const sealed = sealEnvelopeParts({ mime, messageId, tenantId, contentKey });
    // Each part is a view of one reused buffer: copied here as the database driver copies it.
    const parts = Array.from(sealed.parts, (p) => Buffer.from(p));
    const frame = sealed.frame();
    const source: TEnvelopeSource = {
      frame: readEnvelopeFrame(frame)!,
      async *ciphertext() {
        yield* parts;
      },
    };
    return { contentKey, parts, frame, source, header: readEnvelopeHeader({ token: frame, tenantId, maxChars: MAX }) };
  };
  const collect = async (pieces: AsyncIterable<Buffer>) => {
    const got: Buffer[] = [];
    for await (const p of pieces) got.push(Buffer.from(p));
    return got;
  };

  it('a kept message stores its frame (the compact JWE without its ciphertext) and its ciphertext in rows; joined, jose opens it', async () => {
    const raw = Buffer.concat([sampleEml(), Buffer.from(`\r\n${crypto.randomBytes(2 * PART_BYTES).toString('base64')}\r\n`)]);
    const sent = await sendMessage({ ctx, tenant, raw, deliver: false });
    const { envelope } = (await getMessage(ctx.db, sent.messageId))!;
    expect(envelope!.length).toBeLessThan(400);
    const frame = readEnvelopeFrame(envelope!)!;
    expect(frame).not.toBeNull();
    const rows = await ctx.db.selectFrom('envelope_parts').selectAll().where('message_id', '=', sent.messageId).orderBy('seq').execute();
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(raw.length).toBeGreaterThan(2 * PART_BYTES);
    expect(rows.slice(0, -1).every((r) => r.data.length === PART_BYTES)).toBe(true);
    expect(rows.reduce((n, r) => n + r.data.length, 0)).toBe(raw.length);
    const token = await readStoredEnvelope(ctx.db, sent.messageId);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', typ: ENVELOPE_TYP, kid: sent.messageId, tnt: tenant.id });
    expect(Buffer.from((await open(token)).mime).equals(raw)).toBe(true);
    // What a stored row holds is ciphertext: no line of the message is in it.
    expect(rows.some((r) => r.data.includes(raw.subarray(raw.length - 200, raw.length - 100)))).toBe(false);
  });

  // Sizes around a part (768 KiB) and the base64url slices.
  it.each([1, 2, 3, PART_BYTES - 1, PART_BYTES, PART_BYTES + 1, 2 * PART_BYTES + 2])(
    'a %i-byte message sealed in parts: its token is the one jose opens, and both streams give it back',
    async (size) => {
      const mime = crypto.randomBytes(size);
      const { contentKey, parts, source, header } = sealInParts(mime);
      expect(parts.length).toBe(Math.ceil(size / PART_BYTES));
      const token = await envelopeString(source);
      expect(Buffer.from((await jose(token, contentKey)).plaintext).equals(mime)).toBe(true);
      expect(Buffer.from(await openEnvelopeWithKey({ token, header, contentKey })).equals(mime)).toBe(true);
      for (const stream of [decryptEnvelopeStream, releaseEnvelopeStream]) {
        expect(Buffer.concat(await collect(stream({ source, header, contentKey }))).equals(mime)).toBe(true);
        expect(Buffer.concat(await collect(stream({ source: compactSource(token), header, contentKey }))).equals(mime)).toBe(true);
      }
    },
  );

  it('a changed ciphertext row: streaming for parsing fails at the end, releasing hands out nothing at all', async () => {
    const mime = crypto.randomBytes(3 * PART_BYTES);
    const { contentKey, parts, source, header } = sealInParts(mime);
    parts[2]![100]! ^= 1;
    const parsed: Buffer[] = [];
    await expectRefused(
      (async () => {
        for await (const p of decryptEnvelopeStream({ source, header, contentKey })) parsed.push(p);
      })(),
    );
    expect(parsed.length).toBe(3);
    const released: Buffer[] = [];
    await expectRefused(
      (async () => {
        for await (const p of releaseEnvelopeStream({ source, header, contentKey })) released.push(p);
      })(),
    );
    expect(released).toEqual([]);
    await expectRefused(openEnvelopeWhole({ source, header, contentKey }));
  });

  it('a row changed between the check and the release: the pieces before it are authentic and it is never handed out', async () => {
    const mime = crypto.randomBytes(3 * PART_BYTES);
    const { contentKey, parts, frame, header } = sealInParts(mime);
    let readings = 0;
    const source: TEnvelopeSource = {
      frame: readEnvelopeFrame(frame)!,
      async *ciphertext() {
        // The first reading (the tag's check) sees the sealed rows; the second a changed one.
        if (readings++ === 1) parts[1] = Buffer.from(parts[1]!).fill(7, 0, 16);
        yield* parts;
      },
    };
    const released: Buffer[] = [];
    await expectRefused(
      (async () => {
        for await (const p of releaseEnvelopeStream({ source, header, contentKey })) released.push(p);
      })(),
    );
    expect(released.length).toBe(1);
    expect(released[0]!.equals(mime.subarray(0, PART_BYTES))).toBe(true);
  });

  it('a row removed, added or reordered is refused; so is a frame whose header is not the one looked up', async () => {
    const mime = crypto.randomBytes(3 * PART_BYTES);
    const sealed = sealInParts(mime);
    const variants = [
      sealed.parts.slice(0, 2),
      [...sealed.parts, Buffer.alloc(16)],
      [sealed.parts[1]!, sealed.parts[0]!, sealed.parts[2]!],
    ];
    for (const parts of variants) {
      const source: TEnvelopeSource = {
        frame: sealed.source.frame,
        async *ciphertext() {
          yield* parts;
        },
      };
      for (const stream of [decryptEnvelopeStream, releaseEnvelopeStream])
        await expectRefused(collect(stream({ source, header: sealed.header, contentKey: sealed.contentKey })));
    }
    const another = sealInParts(mime);
    await expectRefused(collect(releaseEnvelopeStream({ source: sealed.source, header: another.header, contentKey: sealed.contentKey })));
  });

  it('a stored frame is read as strictly as a token, and a whole token stored before parts still opens', async () => {
    const { token, messageId, raw } = await sealed();
    expect(readEnvelopeFrame(token)).toBeNull();
    const frame = (await getMessage(ctx.db, messageId))!.envelope!;
    for (const damaged of [
      `${frame}.AAAA`,
      frame.replace('..', '.A.'),
      frame.slice(0, -1),
      `${frame.split('..')[0]}..${frame.split('..')[1]}`,
    ])
      expect(readEnvelopeFrame(damaged)).toBeNull();
    // A message stored whole (before migration 0023) is opened from its token.
    const whole = storedEnvelopeSource(ctx.db, messageId, token);
    expect(await envelopeString(whole)).toBe(token);
    expect(Buffer.from((await open(await envelopeString(storedEnvelopeSource(ctx.db, messageId, frame)))).mime).equals(raw)).toBe(true);
  });
});
