import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptCms, decryptMail } from '../lib/smime/decrypt-mail';
import { encryptCms, encryptEntity } from '../lib/smime/encrypt-entity';
import { joinMessage, splitMessage } from '../lib/smime/mime-entity';
import { importSigningKey } from '../lib/smime/signer-key';
import { MAX_CMS_BYTES } from '../lib/smime/cms';
import { signCms, signEntity } from '../lib/smime/sign-entity';
import { verifyCms, verifySignedMail } from '../lib/smime/verify-signed-mail';
import { createSmimeCa, openssl, type TSmimeCa, type TSmimeLeaf } from './helpers/smime-ca';

const pemToDer = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

let dir: string;
let ca: TSmimeCa;
let rsa: TSmimeLeaf;
let ec: TSmimeLeaf;

const message = (body: string) =>
  Buffer.from(
    `From: Alice <alice@acme.example>\r\nTo: bob@partner.example\r\nSubject: Quarterly figures\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${body}`,
  );

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-smime-'));
  ca = createSmimeCa(dir);
  rsa = ca.issue({ name: 'rsa', email: 'bob@partner.example' });
  ec = ca.issue({ name: 'ec', email: 'carol@partner.example', key: 'ec' });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('S/MIME signing and encryption against OpenSSL', () => {
  for (const which of ['rsa', 'ec'] as const) {
    it(`openssl cms -verify accepts what Sealpost signs (${which})`, async () => {
      const leaf = which === 'rsa' ? rsa : ec;
      const signer = {
        certificates: [pemToDer(leaf.certPem), pemToDer(ca.caPem)],
        privateKey: await importSigningKey({ pkcs8Pem: leaf.keyPem }),
      };
      const m = splitMessage({ raw: message('Hello\r\nWorld\r\n') });
      const raw = joinMessage({ outer: m.outer, entity: await signEntity({ entity: m.entity, signer }) });
      fs.writeFileSync(path.join(dir, `signed-${which}.eml`), raw);
      const out = openssl(['cms', '-verify', '-in', `signed-${which}.eml`, '-CAfile', ca.caFile, '-purpose', 'smimesign'], dir);
      expect(out).toEqual(m.entity);
      const verified = await verifySignedMail({ raw });
      expect(Buffer.from(verified!.signer)).toEqual(Buffer.from(pemToDer(leaf.certPem)));
    });
    it(`openssl cms -decrypt opens what Sealpost encrypts (${which}), byte for byte`, async () => {
      const leaf = which === 'rsa' ? rsa : ec;
      const m = splitMessage({ raw: message('Secret\r\n') });
      const raw = joinMessage({ outer: m.outer, entity: await encryptEntity({ content: m.entity, recipients: [pemToDer(leaf.certPem)] }) });
      fs.writeFileSync(path.join(dir, `enc-${which}.eml`), raw);
      const out = openssl(['cms', '-decrypt', '-in', `enc-${which}.eml`, '-recip', leaf.cert, '-inkey', leaf.key, '-binary'], dir);
      expect(out).toEqual(m.entity);
    });
    it(`Sealpost verifies what openssl cms -sign signs (${which})`, async () => {
      const leaf = which === 'rsa' ? rsa : ec;
      fs.writeFileSync(path.join(dir, 'plain.txt'), 'Content-Type: text/plain\r\n\r\nfrom openssl\r\n');
      const signed = openssl(
        ['cms', '-sign', '-in', 'plain.txt', '-signer', leaf.cert, '-inkey', leaf.key, '-md', 'sha256', '-binary', '-crlfeol'],
        dir,
      );
      const v = await verifySignedMail({ raw: Buffer.concat([Buffer.from('From: x@y.example\r\n'), signed]) });
      expect(v?.entity.toString()).toBe('Content-Type: text/plain\r\n\r\nfrom openssl\r\n');
    });
  }

  it('Sealpost decrypts openssl cms -encrypt with RSA-OAEP, and refuses PKCS#1 v1.5 key transport by name', async () => {
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'Content-Type: text/plain\r\n\r\nfrom openssl\r\n');
    const oaep = ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'];
    const enc = openssl(['cms', '-encrypt', '-in', 'plain.txt', '-aes256', '-binary', '-crlfeol', '-recip', rsa.cert, ...oaep], dir);
    const opened = await decryptMail({ raw: enc, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem });
    expect(opened.toString()).toBe('Content-Type: text/plain\r\n\r\nfrom openssl\r\n');
    const pkcs1 = openssl(['cms', '-encrypt', '-in', 'plain.txt', '-aes256', '-binary', '-crlfeol', rsa.cert], dir);
    await expect(decryptMail({ raw: pkcs1, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem })).rejects.toThrow(
      /PKCS#1 v1.5 key transport/,
    );
  });
});

describe('malformed CMS is refused with a clear error, quickly', () => {
  const content = Buffer.from('Content-Type: text/plain\r\n\r\nhello\r\n');
  const refusedQuickly = async (work: Promise<unknown>, pattern: RegExp, code: string) => {
    const started = Date.now();
    await expect(work).rejects.toMatchObject({ code, message: expect.stringMatching(pattern) });
    expect(Date.now() - started).toBeLessThan(5_000);
  };
  const signature = async () =>
    signCms({ content, signer: { certificates: [pemToDer(rsa.certPem)], privateKey: await importSigningKey({ pkcs8Pem: rsa.keyPem }) } });

  it('a truncated signature', async () => {
    const der = await signature();
    await refusedQuickly(
      verifyCms({ signature: der.subarray(0, der.length - 40), content }),
      /not valid DER\/BER|truncated/,
      'BAD_REQUEST',
    );
  });
  it('a signature with a changed content type OID, and an envelope where a signature belongs', async () => {
    const der = Buffer.from(await signature());
    // ContentInfo's OID 1.2.840.113549.1.7.2 (signedData) turned into …7.6 (encryptedData).
    const oid = Buffer.from('06092a864886f70d010702', 'hex');
    const at = der.indexOf(oid);
    der[at + oid.length - 1] = 0x06;
    await refusedQuickly(verifyCms({ signature: der, content }), /content type 1\.2\.840\.113549\.1\.7\.6, not signedData/, 'BAD_REQUEST');
    const envelope = await encryptCms({ content, recipients: [pemToDer(rsa.certPem)] });
    await refusedQuickly(verifyCms({ signature: envelope, content }), /not signedData/, 'BAD_REQUEST');
  });
  it('a signature over other content does not verify', async () => {
    await refusedQuickly(verifyCms({ signature: await signature(), content: Buffer.from('other') }), /does not verify/, 'UNPROCESSABLE');
  });
  it('10 MB of garbage', async () => {
    const garbage = crypto.randomBytes(10 * 1024 * 1024);
    garbage[0] = 0x30;
    await refusedQuickly(verifyCms({ signature: garbage, content }), /not valid DER\/BER/, 'BAD_REQUEST');
    await refusedQuickly(
      decryptCms({ der: garbage, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem }),
      /not valid DER\/BER/,
      'BAD_REQUEST',
    );
  });
  it('deeply nested structures (a million indefinite-length SEQUENCEs)', async () => {
    const nested = Buffer.alloc(2_000_000);
    for (let i = 0; i < nested.length; i += 2) nested.set([0x30, 0x80], i);
    await refusedQuickly(verifyCms({ signature: nested, content }), /not valid DER\/BER.*depth|depth/i, 'BAD_REQUEST');
  });
  it('an object larger than the limit', async () => {
    await refusedQuickly(verifyCms({ signature: Buffer.alloc(MAX_CMS_BYTES + 1, 0x30), content }), /more than/, 'PAYLOAD_TOO_LARGE');
  });
});
