import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBodyRest } from '@/lib/http/read-body-rest';
import { readLeadingField } from '@/lib/http/read-leading-field';
import { readSmallForm, SMALL_FORM_MAX_BYTES } from '@/lib/http/read-small-form';
import { MAX_LARGE_UPLOADS, tryTakeUploadSlot, uploadSlotsInUse } from '@/lib/http/upload-slots';
import { createRecipientToken } from '@/lib/envelope/recipient-token';
import { sendMessage } from '@/lib/messages/send-message';
import { receivePostedEnvelope } from '@/lib/portal/receive-posted-envelope';
import { listRecipients } from '@/lib/store/messages';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { readStoredEnvelope } from './helpers/stored-envelope';

// A body streamed chunk by chunk, as a chunked upload arrives: it counts what the reader pulled,
// and whether it was cancelled, so a test can tell how much of an upload was read.
function streamedBody(chunks: Iterable<Uint8Array | string>) {
  const iterator = chunks[Symbol.iterator]();
  const seen = { pulled: 0, isCancelled: false, isDone: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = iterator.next();
        if (next.done) {
          seen.isDone = true;
          controller.close();
          return;
        }
        const chunk = typeof next.value === 'string' ? new TextEncoder().encode(next.value) : next.value;
        seen.pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        seen.isCancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

// An endless upload of 64 KB chunks of `a` (stops only when the reader stops).
function* endless(prefix = ''): Generator<Uint8Array | string> {
  if (prefix) yield prefix;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  for (;;) yield chunk;
}

const post = (body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}) =>
  new Request('http://acme.localhost/open', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit);

async function refusal(promise: Promise<unknown>): Promise<{ code?: string; status?: number }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, 'expected a refusal').not.toBeNull();
  return error as { code?: string; status?: number };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('readSmallForm', () => {
  it('reads a small urlencoded form', async () => {
    const form = await readSmallForm({ request: post('passcode=12345678&keep=1') });
    expect(form.get('passcode')).toBe('12345678');
    expect(form.get('keep')).toBe('1');
  });

  it('refuses by the declared length without reading a byte', async () => {
    const { stream, seen } = streamedBody(endless());
    const error = await refusal(readSmallForm({ request: post(stream, { 'content-length': String(SMALL_FORM_MAX_BYTES + 1) }) }));
    expect(error.code).toBe('FORM_TOO_LARGE');
    expect(error.status).toBe(413);
    expect(seen.pulled).toBe(0);
  });

  it('refuses a chunked body (no Content-Length) as soon as it passes the limit', async () => {
    const { stream, seen } = streamedBody(endless('passcode='));
    const error = await refusal(readSmallForm({ request: post(stream) }));
    expect(error.code).toBe('FORM_TOO_LARGE');
    expect(error.status).toBe(413);
    // One chunk past the limit at most, and the rest of the upload is never asked for.
    expect(seen.pulled).toBeLessThanOrEqual(SMALL_FORM_MAX_BYTES + 64 * 1024 + 9);
    expect(seen.isCancelled).toBe(true);
  });

  it('accepts a form of exactly the limit', async () => {
    const value = 'a'.repeat(SMALL_FORM_MAX_BYTES - 'x='.length);
    const { stream } = streamedBody([`x=${value.slice(0, 100)}`, value.slice(100)]);
    expect((await readSmallForm({ request: post(stream) })).get('x')).toBe(value);
  });
});

describe('readLeadingField', () => {
  it('reads the first field and leaves the rest of the body unread', async () => {
    const { stream, seen } = streamedBody(endless('rt=abc.def&envelope='));
    const { value, cursor } = await readLeadingField({ request: post(stream), name: 'rt', maxBytes: 4096 });
    expect(value).toBe('abc.def');
    expect(new TextDecoder().decode(cursor.head)).toBe('envelope=');
    expect(seen.pulled).toBe('rt=abc.def&envelope='.length);
  });

  it('reads a token split across chunks, even inside its name and a percent escape', async () => {
    const { stream } = streamedBody(['r', 't=ab', 'c%2', 'Ed', 'ef', '&env', 'elope=xyz']);
    const { value, cursor } = await readLeadingField({ request: post(stream), name: 'rt', maxBytes: 4096 });
    expect(value).toBe('abc.def');
    const rest = await readBodyRest({ cursor, maxBytes: 1000, largeAfter: 1000, onLarge: () => true });
    expect(rest.toString()).toBe('envelope=xyz');
  });

  it.each([
    ['envelope=xyz&rt=abc', 'the token after the envelope'],
    ['envelope=xyz', 'no token at all'],
    ['rtx=abc&envelope=xyz', 'a field of another name'],
    ['rt=abc&rt=def', 'a token, then another (fine: only the first counts)'],
  ])('%s: %s', async (body, what) => {
    const { stream } = streamedBody([body]);
    const read = readLeadingField({ request: post(stream), name: 'rt', maxBytes: 4096 });
    if (what.startsWith('a token, then')) return expect((await read).value).toBe('abc');
    const error = await refusal(read);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.status).toBe(400);
  });

  it('refuses a first field longer than its limit after reading little more than the limit', async () => {
    const { stream, seen } = streamedBody(endless('rt='));
    const error = await refusal(readLeadingField({ request: post(stream), name: 'rt', maxBytes: 4096 }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(seen.pulled).toBeLessThanOrEqual(4096 + 64 * 1024 + 3);
    await settle();
    expect(seen.isCancelled).toBe(true);
  });

  it('reads a body that is the token alone', async () => {
    const { value, cursor } = await readLeadingField({ request: post('rt=abc'), name: 'rt', maxBytes: 4096 });
    expect(value).toBe('abc');
    expect((await readBodyRest({ cursor, maxBytes: 1000, largeAfter: 1000, onLarge: () => true })).length).toBe(0);
  });
});

describe('readBodyRest', () => {
  it("refuses past the whole body's limit", async () => {
    const { stream } = streamedBody(endless('rt=abc&'));
    const { cursor } = await readLeadingField({ request: post(stream), name: 'rt', maxBytes: 4096 });
    const error = await refusal(readBodyRest({ cursor, maxBytes: 1024 * 1024, largeAfter: 1024, onLarge: () => true }));
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.status).toBe(413);
  });

  it('asks once when the body turns large, and answers 503 when no slot is free', async () => {
    const { stream } = streamedBody(endless('rt=abc&'));
    const { cursor } = await readLeadingField({ request: post(stream), name: 'rt', maxBytes: 4096 });
    let asked = 0;
    const error = await refusal(
      readBodyRest({
        cursor,
        maxBytes: 1024 * 1024,
        largeAfter: 1024,
        onLarge: () => {
          asked += 1;
          return asked > 1;
        },
      }),
    );
    expect(asked).toBe(1);
    expect(error.code).toBe('SERVER_BUSY');
    expect(error.status).toBe(503);
  });
});

describe('upload slots', () => {
  it(`lets ${MAX_LARGE_UPLOADS} large uploads in at once, and another once one is done`, () => {
    const releases = Array.from({ length: MAX_LARGE_UPLOADS }, () => tryTakeUploadSlot());
    expect(releases.every((r) => r !== null)).toBe(true);
    expect(tryTakeUploadSlot()).toBeNull();
    releases[0]!();
    releases[0]!(); // a second release frees nothing more
    const again = tryTakeUploadSlot();
    expect(again).not.toBeNull();
    expect(tryTakeUploadSlot()).toBeNull();
    for (const release of [...releases, again]) release!();
    expect(uploadSlotsInUse()).toBe(0);
  });
});

describe("receivePostedEnvelope (message.html's form, streamed)", () => {
  let ctx: TTestContext;
  let tenant: TTenant;
  let other: TTenant;
  let envelope: string;
  let rt: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    tenant = await seedTenant(ctx);
    other = await seedTenant(ctx);
    const { messageId } = await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }), deliver: false });
    envelope = await readStoredEnvelope(ctx.db, messageId);
    const [recipient] = await listRecipients(ctx.db, messageId);
    rt = await createRecipientToken({
      db: ctx.db,
      master: ctx.master,
      tenantId: tenant.id,
      claims: { messageId, recipientId: recipient!.id, address: recipient!.address },
    });
  });
  afterAll(() => ctx?.close());

  it('accepts the form exactly as message.html posts it, in chunks', async () => {
    const body = `rt=${rt}&envelope=${envelope}`;
    const chunks = Array.from({ length: Math.ceil(body.length / 997) }, (_, i) => body.slice(i * 997, (i + 1) * 997));
    const { stream } = streamedBody(chunks);
    const { token, claims } = await receivePostedEnvelope({ ctx, tenant, request: post(stream) });
    expect(token).toBe(rt);
    expect(claims.address).toBe('bob@gmail.com');
    expect(uploadSlotsInUse()).toBe(0);
  });

  it.each([
    ['a damaged token', () => `rt=${rt.slice(0, -3)}AAA&`],
    ['no token', () => 'rt=&'],
    ["another tenant's token", () => `rt=${rt}&`],
  ])('refuses %s after reading a few KB of an endless upload', async (what, prefix) => {
    const { stream, seen } = streamedBody(endless(prefix()));
    const error = await refusal(receivePostedEnvelope({ ctx, tenant: what.startsWith('another') ? other : tenant, request: post(stream) }));
    expect(error.code).toBe('ENVELOPE_INVALID');
    expect(error.status).toBe(400);
    // The token's chunk and at most one more were read before the answer.
    expect(seen.pulled).toBeLessThanOrEqual(prefix().length + 64 * 1024);
    await settle();
    expect(seen.isCancelled).toBe(true);
    expect(uploadSlotsInUse()).toBe(0);
  });

  it('refuses a form whose first field is the envelope, before reading it', async () => {
    const { stream, seen } = streamedBody(endless(`envelope=${envelope}&rt=${rt}`));
    const error = await refusal(receivePostedEnvelope({ ctx, tenant, request: post(stream) }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(seen.pulled).toBeLessThanOrEqual(`envelope=${envelope}&rt=${rt}`.length);
  });

  it('answers 503 with every upload slot taken, for a valid token and a large envelope', async () => {
    const releases = Array.from({ length: MAX_LARGE_UPLOADS }, () => tryTakeUploadSlot()!);
    try {
      const { stream } = streamedBody([`rt=${rt}&envelope=`, envelope, 'a'.repeat(SMALL_FORM_MAX_BYTES)]);
      const error = await refusal(receivePostedEnvelope({ ctx, tenant, request: post(stream) }));
      expect(error.code).toBe('SERVER_BUSY');
    } finally {
      for (const release of releases) release();
    }
  });
});
