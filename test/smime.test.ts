import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addSmimeCertificate } from '../lib/smime/add-smime-certificate';
import { importSigningCertificate } from '../lib/smime/import-signing-certificate';
import { clearSmimeSignerCache, loadTenantSigner } from '../lib/smime/load-tenant-signer';
import nodemailer from 'nodemailer';
import { startOutboxWorker } from '../lib/mail/outbox-worker';
import { createRelayCredential } from '../lib/relay/relay-credentials';
import { startRelay } from '../lib/relay/start-relay';
import { addRule } from '../lib/rules/add-rule';
import { setBranding } from '../lib/templates/set-branding';
import { runCli } from './helpers/cli';
import { startSmtpSink } from './helpers/smtp-sink';
import { drainOutbox } from './helpers/every-kind-of-mail';
import { createMailTransport } from '../lib/mail/transport';
import { sendMessage } from '../lib/messages/send-message';
import { removeSmimeCertificate } from '../lib/smime/remove-smime-certificate';
import { rememberSignerCertificate } from '../lib/smime/remember-signer-certificate';
import { createTestContext, sampleEml, seedTenant } from './helpers/context';
import { decryptCms, decryptMail } from '../lib/smime/decrypt-mail';
import { encryptCms, encryptEntity } from '../lib/smime/encrypt-entity';
import { joinMessage, splitMessage } from '../lib/smime/mime-entity';
import { importSigningKey } from '../lib/smime/signer-key';
import { MAX_CMS_BYTES, OID, pkijs, toArrayBuffer } from '../lib/smime/cms';
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
  for (const which of ['rsa', 'rsa-pss', 'ec'] as const) {
    it(`openssl cms -verify accepts what Sealpost signs (${which})`, async () => {
      const leaf = which === 'ec' ? ec : rsa;
      const signer = {
        certificates: [pemToDer(leaf.certPem), pemToDer(ca.caPem)],
        privateKey: await importSigningKey({ pkcs8Pem: leaf.keyPem, scheme: which === 'rsa-pss' ? 'pss' : 'pkcs1' }),
      };
      const m = splitMessage({ raw: message('Hello\r\nWorld\r\n') });
      const raw = joinMessage({ outer: m.outer, entity: await signEntity({ entity: m.entity, signer }) });
      fs.writeFileSync(path.join(dir, `signed-${which}.eml`), raw);
      const out = openssl(['cms', '-verify', '-in', `signed-${which}.eml`, '-CAfile', ca.caFile, '-purpose', 'smimesign'], dir);
      expect(out).toEqual(m.entity);
      const printed = openssl(['cms', '-cmsout', '-print', '-in', `signed-${which}.eml`], dir).toString();
      expect(printed).toMatch(
        which === 'rsa-pss' ? /rsassaPss/ : which === 'ec' ? /ecdsa-with-SHA256/ : /sha256WithRSAEncryption|rsaEncryption/,
      );
      const verified = await verifySignedMail({ raw });
      expect(Buffer.from(verified!.signer)).toEqual(Buffer.from(pemToDer(leaf.certPem)));
      // Its SMIMECapabilities announce AES-256-GCM, then AES-256-CBC (RFC 8551 §2.5.2).
      expect(printed).toMatch(/S\/MIME Capabilities[\s\S]*?aes-256-gcm[\s\S]*?aes-256-cbc/);
      expect(verified!.capabilities!.slice(0, 2)).toEqual([OID.aes256Gcm, OID.aes256Cbc]);
    });
  }
  for (const which of ['rsa', 'ec'] as const) {
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

  for (const which of ['rsa', 'ec'] as const) {
    it(`openssl cms -decrypt opens what Sealpost encrypts with AES-256-GCM (AuthEnvelopedData, ${which}), byte for byte`, async () => {
      const leaf = which === 'rsa' ? rsa : ec;
      const m = splitMessage({ raw: message('Secret, authenticated\r\n') });
      const entity = await encryptEntity({ content: m.entity, recipients: [pemToDer(leaf.certPem)], cipher: 'aes256-gcm' });
      expect(entity.toString()).toMatch(/^Content-Type: application\/pkcs7-mime; smime-type=authEnveloped-data;/);
      fs.writeFileSync(path.join(dir, `gcm-${which}.eml`), joinMessage({ outer: m.outer, entity }));
      const printed = openssl(['cms', '-cmsout', '-print', '-in', `gcm-${which}.eml`], dir).toString();
      expect(printed).toMatch(/contentType: id-smime-ct-authEnvelopedData/);
      expect(printed).toMatch(/algorithm: aes-256-gcm/);
      expect(printed).toMatch(which === 'rsa' ? /rsaesOaep/ : /dhSinglePass-stdDH-sha256kdf-scheme/);
      const out = openssl(['cms', '-decrypt', '-in', `gcm-${which}.eml`, '-recip', leaf.cert, '-inkey', leaf.key, '-binary'], dir);
      expect(out).toEqual(m.entity);
      // And Sealpost opens its own.
      const opened = await decryptMail({
        raw: joinMessage({ outer: m.outer, entity }),
        certificate: pemToDer(leaf.certPem),
        pkcs8Pem: leaf.keyPem,
      });
      expect(opened).toEqual(m.entity);
    });
    it(`Sealpost decrypts openssl cms -encrypt -aes-256-gcm (${which}), and refuses a tampered ciphertext or tag`, async () => {
      const leaf = which === 'rsa' ? rsa : ec;
      const text = `Content-Type: text/plain\r\n\r\nfrom openssl, GCM to ${which}\r\n`;
      fs.writeFileSync(path.join(dir, 'plain-gcm.txt'), text);
      const keyopt = which === 'rsa' ? ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'] : [];
      const args = ['cms', '-encrypt', '-in', 'plain-gcm.txt', '-aes-256-gcm', '-binary', '-recip', leaf.cert, ...keyopt];
      const enc = openssl([...args, '-crlfeol'], dir);
      expect(enc.toString()).toMatch(/smime-type=authEnveloped-data/);
      const opened = await decryptMail({ raw: enc, certificate: pemToDer(leaf.certPem), pkcs8Pem: leaf.keyPem });
      expect(opened.toString()).toBe(text);
      const der = new Uint8Array(openssl([...args, '-outform', 'DER'], dir));
      const key = { certificate: pemToDer(leaf.certPem), pkcs8Pem: leaf.keyPem };
      await expect(decryptCms({ der, ...key })).resolves.toEqual(Buffer.from(text));
      const aes128 = args.map((arg) => (arg === '-aes-256-gcm' ? '-aes-128-gcm' : arg));
      const der128 = new Uint8Array(openssl([...aes128, '-outform', 'DER'], dir));
      await expect(decryptCms({ der: der128, ...key })).resolves.toEqual(Buffer.from(text));
      // The tag is the last 16 bytes of the DER (the mac OCTET STRING ends the structure);
      // the encrypted content is the 'from openssl…' bytes just before it.
      for (const at of [der.length - 1, der.length - 16 - 20]) {
        const tampered = Uint8Array.from(der);
        tampered[at]! ^= 0x01;
        await expect(decryptCms({ der: tampered, ...key })).rejects.toMatchObject({
          code: 'UNPROCESSABLE',
          message: expect.stringMatching(/fails its authentication \(AES-GCM tag\)/),
        });
      }
    });
  }

  it('a 25 MB message: openssl verifies the signature and decrypts the CBC and GCM envelopes byte for byte', async () => {
    const attachment = crypto
      .randomBytes(19 * 1024 * 1024)
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n');
    const m = splitMessage({ raw: message(`${attachment}\r\n`) });
    expect(m.entity.length).toBeGreaterThan(25 * 1024 * 1024);
    const signer = { certificates: [pemToDer(rsa.certPem)], privateKey: await importSigningKey({ pkcs8Pem: rsa.keyPem }) };
    fs.writeFileSync(
      path.join(dir, 'big-signed.eml'),
      joinMessage({ outer: m.outer, entity: await signEntity({ entity: m.entity, signer }) }),
    );
    expect(openssl(['cms', '-verify', '-in', 'big-signed.eml', '-CAfile', ca.caFile], dir).equals(m.entity)).toBe(true);
    const encrypted = joinMessage({
      outer: m.outer,
      entity: await encryptEntity({ content: m.entity, recipients: [pemToDer(ec.certPem)] }),
    });
    fs.writeFileSync(path.join(dir, 'big-enc.eml'), encrypted);
    expect(openssl(['cms', '-decrypt', '-in', 'big-enc.eml', '-recip', ec.cert, '-inkey', ec.key, '-binary'], dir).equals(m.entity)).toBe(
      true,
    );
    const gcm = joinMessage({
      outer: m.outer,
      entity: await encryptEntity({ content: m.entity, recipients: [pemToDer(rsa.certPem)], cipher: 'aes256-gcm' }),
    });
    fs.writeFileSync(path.join(dir, 'big-gcm.eml'), gcm);
    expect(openssl(['cms', '-decrypt', '-in', 'big-gcm.eml', '-recip', rsa.cert, '-inkey', rsa.key, '-binary'], dir).equals(m.entity)).toBe(
      true,
    );
    expect((await decryptMail({ raw: gcm, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem })).equals(m.entity)).toBe(true);
  });

  it('Sealpost decrypts openssl cms -encrypt to an EC certificate (ECDH, no ukm)', async () => {
    fs.writeFileSync(path.join(dir, 'plain-ec.txt'), 'Content-Type: text/plain\r\n\r\nfrom openssl to EC\r\n');
    for (const kdf of [[], ['-keyopt', 'ecdh_kdf_md:sha256']]) {
      const enc = openssl(['cms', '-encrypt', '-in', 'plain-ec.txt', '-aes256', '-binary', '-crlfeol', '-recip', ec.cert, ...kdf], dir);
      const opened = await decryptMail({ raw: enc, certificate: pemToDer(ec.certPem), pkcs8Pem: ec.keyPem });
      expect(opened.toString()).toBe('Content-Type: text/plain\r\n\r\nfrom openssl to EC\r\n');
    }
  });

  it('Sealpost decrypts openssl cms -encrypt with RSA-OAEP and with PKCS#1 v1.5 key transport (the default of openssl and of mail clients); the wrong key fails closed', async () => {
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'Content-Type: text/plain\r\n\r\nfrom openssl\r\n');
    const oaep = ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'];
    const enc = openssl(['cms', '-encrypt', '-in', 'plain.txt', '-aes256', '-binary', '-crlfeol', '-recip', rsa.cert, ...oaep], dir);
    const opened = await decryptMail({ raw: enc, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem });
    expect(opened.toString()).toBe('Content-Type: text/plain\r\n\r\nfrom openssl\r\n');
    const pkcs1 = openssl(['cms', '-encrypt', '-in', 'plain.txt', '-aes256', '-binary', '-crlfeol', rsa.cert], dir);
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'SMIME'], dir, pkcs1).toString();
    expect(printed).toMatch(/keyEncryptionAlgorithm:\s*algorithm: rsaEncryption/);
    const openedPkcs1 = await decryptMail({ raw: pkcs1, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem });
    expect(openedPkcs1.toString()).toBe('Content-Type: text/plain\r\n\r\nfrom openssl\r\n');
    // Another key for the same certificate: OpenSSL's implicit rejection gives a key that does not
    // open the content, and the refusal says nothing of why.
    const other = ca.issue({ name: 'rsa-other', email: 'bob@partner.example' });
    await expect(decryptMail({ raw: pkcs1, certificate: pemToDer(rsa.certPem), pkcs8Pem: other.keyPem })).rejects.toThrow(
      /^The S\/MIME envelope cannot be opened$/,
    );
    const gcmPkcs1 = openssl(['cms', '-encrypt', '-in', 'plain.txt', '-aes-256-gcm', '-binary', '-crlfeol', rsa.cert], dir);
    await expect(decryptMail({ raw: gcmPkcs1, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem })).rejects.toThrow(
      /AES-GCM with RSA PKCS#1 v1.5 key transport, which Sealpost does not decrypt/,
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
    await refusedQuickly(verifyCms({ signature: garbage, content }), /not valid DER\/BER|bytes after its end/, 'BAD_REQUEST');
    await refusedQuickly(
      decryptCms({ der: garbage, certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem }),
      /not valid DER\/BER|bytes after its end/,
      'BAD_REQUEST',
    );
  });
  it('AuthEnvelopedData: truncated, a CBC cipher inside, an EnvelopedData under its OID, and a signature where an envelope belongs', async () => {
    const key = { certificate: pemToDer(rsa.certPem), pkcs8Pem: rsa.keyPem };
    const gcm = Buffer.from(await encryptCms({ content, recipients: [pemToDer(rsa.certPem)], cipher: 'aes256-gcm' }));
    await refusedQuickly(decryptCms({ der: gcm.subarray(0, gcm.length - 30), ...key }), /not valid DER\/BER|truncated/, 'BAD_REQUEST');
    // id-aes256-GCM (2.16.840.1.101.3.4.1.46) turned into id-aes256-CBC (…1.42).
    const cbcInside = Buffer.from(gcm);
    const oid = Buffer.from('060960864801650304012e', 'hex');
    cbcInside[cbcInside.indexOf(oid) + oid.length - 1] = 0x2a;
    await refusedQuickly(
      decryptCms({ der: cbcInside, ...key }),
      /content cipher 2\.16\.840\.1\.101\.3\.4\.1\.42: only AES-GCM is accepted here/,
      'BAD_REQUEST',
    );
    const info = pkijs.ContentInfo.fromBER(toArrayBuffer(await encryptCms({ content, recipients: [pemToDer(rsa.certPem)] })));
    info.contentType = OID.authEnvelopedData;
    await refusedQuickly(
      decryptCms({ der: new Uint8Array(info.toSchema().toBER(false)), ...key }),
      /not a valid CMS AuthEnvelopedData/,
      'BAD_REQUEST',
    );
    await refusedQuickly(
      decryptCms({ der: await signature(), ...key }),
      /content type 1\.2\.840\.113549\.1\.7\.2, not envelopedData .* or authEnvelopedData/,
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

describe('S/MIME certificates', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    clearSmimeSignerCache();
    while (cleanups.length) await cleanups.pop()!();
  });
  async function setup() {
    const ctx = await createTestContext();
    cleanups.push(() => ctx.close());
    const tenant = await seedTenant(ctx);
    return { ctx, tenant };
  }

  it('`smime import --signature rsa-pss` signs with RSASSA-PSS, an RSA-PSS key always does, and openssl verifies both; PSS with an EC key is refused', async () => {
    const { ctx, tenant } = await setup();
    await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(ca.caPem), actor: 'test' });
    fs.writeFileSync(path.join(dir, 'pss.pass'), 'pw\n');
    const importAs = (leaf: TSmimeLeaf, signature?: string) =>
      runCli(
        [
          'smime',
          'import',
          '--tenant',
          tenant.slug,
          '--password-file',
          path.join(dir, 'pss.pass'),
          ...(signature ? ['--signature', signature] : []),
          leaf.p12('pw'),
        ],
        ctx.cliEnv,
      );
    const signedBy = async (from: string, name: string) => {
      clearSmimeSignerCache();
      const signer = await loadTenantSigner({ ctx, tenantId: tenant.id, from });
      const m = splitMessage({ raw: message(`signed as ${from}\r\n`) });
      fs.writeFileSync(
        path.join(dir, name),
        joinMessage({ outer: m.outer, entity: await signEntity({ entity: m.entity, signer: signer! }) }),
      );
      expect(openssl(['cms', '-verify', '-in', name, '-CAfile', ca.caFile, '-purpose', 'smimesign'], dir)).toEqual(m.entity);
      return openssl(['cms', '-cmsout', '-print', '-in', name], dir).toString();
    };

    const rsaKey = ca.issue({ name: 'pss-option', email: 'alice@acme.example' });
    const asPss = importAs(rsaKey, 'rsa-pss');
    expect(asPss.status, asPss.stderr).toBe(0);
    expect(asPss.json).toMatchObject({ address: 'alice@acme.example', signature: 'rsa-pss' });
    expect(await signedBy('alice@acme.example', 'pss-option.eml')).toMatch(/signatureAlgorithm:\s*algorithm: rsassaPss/);
    // Imported again without the option: PKCS#1 v1.5, what every client verifies.
    expect(importAs(rsaKey).json).toMatchObject({ signature: 'rsa-pkcs1' });
    expect(await signedBy('alice@acme.example', 'pkcs1-again.eml')).toMatch(
      /signatureAlgorithm:\s*algorithm: (sha256WithRSAEncryption|rsaEncryption)/,
    );

    const pssKey = ca.issue({ name: 'pss-key', email: 'billing@acme.example', key: 'rsa-pss' });
    const pssImported = importAs(pssKey);
    expect(pssImported.status, pssImported.stderr).toBe(0);
    expect(pssImported.json).toMatchObject({ address: 'billing@acme.example', signature: 'rsa-pss' });
    expect(await signedBy('billing@acme.example', 'pss-key.eml')).toMatch(/signatureAlgorithm:\s*algorithm: rsassaPss/);

    const sha1Mgf = importAs(ca.issue({ name: 'pss-sha1', email: 'legacy@acme.example', key: 'rsa-pss', pssMgf1: 'sha1' }));
    expect(sha1Mgf.status).toBe(1);
    expect(sha1Mgf.stderr).toMatch(/restricted to sha1 as its MGF1 digest; Sealpost signs with SHA-256 throughout/);

    const ecKey = ca.issue({ name: 'pss-ec', email: 'ops@acme.example', key: 'ec' });
    const refused = importAs(ecKey, 'rsa-pss');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/RSASSA-PSS signs with an RSA key; this one is ec/);
    expect(importAs(rsaKey, 'pss').stderr).toMatch(/--signature must be rsa-pkcs1 or rsa-pss/);
    const audit = await ctx.db.selectFrom('audit_events').select('data').where('type', '=', 'smime_certificate_added').execute();
    expect(audit.map((a) => JSON.parse(String(a.data)).signature)).toEqual(expect.arrayContaining(['rsa-pss', 'rsa-pkcs1']));
  });

  it('`smime ca add`, `smime import` (the key sealed) and `smime cert add|list|remove` from the command line', async () => {
    const { ctx, tenant } = await setup();
    const signing = ca.issue({ name: 'tenant-signing', email: 'alice@acme.example' });
    const p12 = signing.p12('correct horse');
    fs.writeFileSync(path.join(dir, 'p12.pass'), 'correct horse\n');
    const untrusted = runCli(['smime', 'import', '--tenant', tenant.slug, '--password-file', path.join(dir, 'p12.pass'), p12], ctx.cliEnv);
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toMatch(/untrusted: it does not chain to the system CA bundle or a CA the tenant added/);
    const caAdded = runCli(['smime', 'ca', 'add', '--tenant', tenant.slug, ca.caFile], ctx.cliEnv);
    expect(caAdded.status, caAdded.stderr).toBe(0);
    fs.writeFileSync(path.join(dir, 'wrong.pass'), 'wrong\n');
    const wrong = runCli(['smime', 'import', '--tenant', tenant.slug, '--password-file', path.join(dir, 'wrong.pass'), p12], ctx.cliEnv);
    expect(wrong.stderr).toMatch(/wrong password/);
    const imported = runCli(['smime', 'import', '--tenant', tenant.slug, '--password-file', path.join(dir, 'p12.pass'), p12], ctx.cliEnv);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.json).toMatchObject({ kind: 'signing', address: 'alice@acme.example', hasPrivateKey: true });
    const row = await ctx.db.selectFrom('smime_certificates').selectAll().where('kind', '=', 'signing').executeTakeFirstOrThrow();
    const keyBody = signing.keyPem.split('\n')[1]!;
    expect(Buffer.from(row.private_key!).includes(Buffer.from(keyBody))).toBe(false);
    expect(Buffer.from(row.private_key!).includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    // The sealed key opens and signs what openssl verifies.
    const signer = await loadTenantSigner({ ctx, tenantId: tenant.id, from: 'alice@acme.example' });
    const m = splitMessage({ raw: message('signed by the tenant\r\n') });
    fs.writeFileSync(
      path.join(dir, 'tenant-signed.eml'),
      joinMessage({ outer: m.outer, entity: await signEntity({ entity: m.entity, signer: signer! }) }),
    );
    expect(openssl(['cms', '-verify', '-in', 'tenant-signed.eml', '-CAfile', ca.caFile], dir)).toEqual(m.entity);

    const added = runCli(['smime', 'cert', 'add', '--tenant', tenant.slug, rsa.cert], ctx.cliEnv);
    expect(added.status, added.stderr).toBe(0);
    expect(added.json).toMatchObject({ kind: 'recipient', address: 'bob@partner.example', source: 'admin' });
    const listed = runCli(['smime', 'cert', 'list', '--tenant', tenant.slug], ctx.cliEnv);
    expect(listed.json.certificates.map((c: { address: string }) => c.address)).toEqual(['bob@partner.example']);
    expect(added.json.capabilities).toBeNull();
    const unknownCipher = runCli(['smime', 'cert', 'add', '--tenant', tenant.slug, '--capabilities', 'des3', ec.cert], ctx.cliEnv);
    expect(unknownCipher.status).toBe(1);
    expect(unknownCipher.stderr).toMatch(/Unknown S\/MIME capability "des3": use aes256-gcm/);
    const withGcm = runCli(
      ['smime', 'cert', 'add', '--tenant', tenant.slug, '--capabilities', 'aes256-gcm,aes256-cbc', ec.cert],
      ctx.cliEnv,
    );
    expect(withGcm.status, withGcm.stderr).toBe(0);
    expect(withGcm.json).toMatchObject({ address: 'carol@partner.example', capabilities: [OID.aes256Gcm, OID.aes256Cbc] });
    expect(runCli(['smime', 'cert', 'remove', '--tenant', tenant.slug, 'carol@partner.example'], ctx.cliEnv).status).toBe(0);
    const removed = runCli(['smime', 'cert', 'remove', '--tenant', tenant.slug, 'bob@partner.example'], ctx.cliEnv);
    expect(removed.status, removed.stderr).toBe(0);
    const audit = await ctx.db.selectFrom('audit_events').select('type').where('type', 'like', 'smime_%').execute();
    expect(audit.map((a) => a.type).sort()).toEqual([
      'smime_certificate_added',
      'smime_certificate_added',
      'smime_certificate_added',
      'smime_certificate_added',
      'smime_certificate_removed',
      'smime_certificate_removed',
    ]);
  });

  it('refuses expired, wrong-usage, wrong-address and untrusted certificates, each with its reason', async () => {
    const { ctx, tenant } = await setup();
    await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(ca.caPem), actor: 'test' });
    const add = (leaf: TSmimeLeaf, address?: string) =>
      addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'recipient', file: Buffer.from(leaf.certPem), address, actor: 'test' });
    const expired = ca.issue({ name: 'expired', email: 'old@partner.example', startDate: '20200101000000Z', endDate: '20210101000000Z' });
    await expect(add(expired)).rejects.toThrow(/expired on 2021-01-01/);
    const serverAuth = ca.issue({ name: 'server-auth', email: 'web@partner.example', extendedKeyUsage: 'serverAuth' });
    await expect(add(serverAuth)).rejects.toThrow(/wrong extended key usage: it does not allow emailProtection/);
    const signOnly = ca.issue({ name: 'sign-only', email: 'sign@partner.example', keyUsage: 'critical,digitalSignature' });
    await expect(add(signOnly)).rejects.toThrow(/wrong key usage: keyEncipherment is needed to encrypt/);
    await expect(add(rsa, 'mallory@partner.example')).rejects.toThrow(
      /is for bob@partner.example, not mallory@partner.example: wrong address/,
    );
    const otherCa = createSmimeCa(path.join(dir, 'other-ca'), 'Other CA');
    const stranger = otherCa.issue({ name: 'stranger', email: 'x@partner.example' });
    await expect(add(stranger)).rejects.toThrow(/untrusted/);
    expect(await ctx.db.selectFrom('smime_certificates').select('id').where('kind', '=', 'recipient').execute()).toEqual([]);
    await expect(add(rsa)).resolves.toMatchObject({ address: 'bob@partner.example', notes: [] });
  });

  it('remembers a signer only when the signature verifies and the certificate passes for the sender', async () => {
    const { ctx, tenant } = await setup();
    await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(ca.caPem), actor: 'test' });
    fs.writeFileSync(path.join(dir, 'learn.txt'), 'Content-Type: text/plain\r\n\r\nlearn me\r\n');
    const signedBy = (leaf: TSmimeLeaf) =>
      Buffer.concat([
        Buffer.from('From: someone@partner.example\r\nSubject: s\r\n'),
        openssl(
          ['cms', '-sign', '-in', 'learn.txt', '-signer', leaf.cert, '-inkey', leaf.key, '-md', 'sha256', '-binary', '-crlfeol'],
          dir,
        ),
      ]);
    const remember = (raw: Buffer, sender: string) => rememberSignerCertificate({ db: ctx.db, tenantId: tenant.id, raw, sender });
    expect(await remember(message('not signed\r\n'), 'alice@acme.example')).toBe('not-signed');
    const tampered = Buffer.from(signedBy(rsa).toString('latin1').replace('learn me', 'learn ME'), 'latin1');
    expect(await remember(tampered, 'bob@partner.example')).toEqual({ refused: expect.stringMatching(/does not verify/) });
    expect(await remember(signedBy(rsa), 'mallory@partner.example')).toEqual({ refused: expect.stringMatching(/wrong address/) });
    const stranger = createSmimeCa(path.join(dir, 'stranger-ca'), 'Stranger CA').issue({ name: 'stranger2', email: 'eve@partner.example' });
    expect(await remember(signedBy(stranger), 'eve@partner.example')).toEqual({ refused: expect.stringMatching(/untrusted/) });
    expect(await ctx.db.selectFrom('smime_certificates').select('id').where('kind', '=', 'recipient').execute()).toEqual([]);
    expect(await remember(signedBy(rsa), 'bob@partner.example')).toBe('remembered');
    expect(await remember(signedBy(rsa), 'bob@partner.example')).toBe('known');
  });

  it('checks revocation against a reachable CRL, and says so when none answers', async () => {
    const { ctx, tenant } = await setup();
    const crlCa = createSmimeCa(path.join(dir, 'crl-ca'), 'CRL CA');
    let crl: Buffer = Buffer.alloc(0);
    const server = http.createServer((_req, res) => res.end(crl));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`;
    const revoked = crlCa.issue({ name: 'revoked', email: 'gone@partner.example', crlUrl: url });
    const good = crlCa.issue({ name: 'good', email: 'fine@partner.example', crlUrl: url });
    const offline = crlCa.issue({ name: 'offline', email: 'far@partner.example', crlUrl: 'http://127.0.0.1:9/ca.crl' });
    crl = fs.readFileSync(crlCa.crl(['revoked']));
    await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(crlCa.caPem), actor: 'test' });
    const add = (leaf: TSmimeLeaf) =>
      addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'recipient', file: Buffer.from(leaf.certPem), actor: 'test' });
    await expect(add(revoked)).rejects.toThrow(/has been revoked \(CRL at http:\/\/127\.0\.0\.1/);
    await expect(add(good)).resolves.toMatchObject({ notes: [] });
    await expect(add(offline)).resolves.toMatchObject({
      notes: [expect.stringMatching(/revocation not checked: no CRL distribution point answered/)],
    });
  });
});

describe('S/MIME through the relay', () => {
  it('a rule with encrypt-when-possible sends S/MIME to a recipient with a known certificate and a signed wrapper to one without; a signed mail teaches its certificate', async () => {
    const sink = await startSmtpSink();
    const ctx = await createTestContext({ SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '50' });
    const tenant = await seedTenant(ctx);
    const relay = await startRelay({ ctx, port: 0, host: '127.0.0.1' });
    const worker = startOutboxWorker({ ctx });
    try {
      await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(ca.caPem), actor: 'test' });
      const signing = ca.issue({ name: 'relay-signing', email: 'alice@acme.example' });
      const p12 = fs.readFileSync(signing.p12('pw'));
      await importSigningCertificate({ ctx, tenant, p12, password: 'pw', actor: 'test' });
      await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'recipient', file: Buffer.from(rsa.certPem), actor: 'test' });
      await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'smime', input: { smime: 'encrypt-when-possible' } });
      await addRule({
        db: ctx.db,
        tenantId: tenant.id,
        input: { name: 'smime outside', conditions: [{ type: 'recipientOutside' }], action: { kind: 'encrypt', template: 'smime' } },
      });
      const credential = await createRelayCredential({ db: ctx.db, tenant });
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: relay.port,
        secure: false,
        ignoreTLS: true,
        auth: { user: credential.username, pass: credential.password },
      });
      const original = Buffer.from(
        'From: Alice <alice@acme.example>\r\nTo: bob@partner.example, dave@partner.example\r\nSubject: Figures\r\n' +
          'Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <e2e@acme.example>\r\nMIME-Version: 1.0\r\n' +
          'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nThe figures, for your eyes only.\r\n',
      );
      await transport.sendMail({
        envelope: { from: 'alice@acme.example', to: ['bob@partner.example', 'dave@partner.example'] },
        raw: original,
      });
      const mails = await sink.waitFor(2, 20_000);
      const toBob = mails.find((m) => m.rcptTo.includes('bob@partner.example'))!;
      const toDave = mails.find((m) => m.rcptTo.includes('dave@partner.example'))!;
      expect(toBob.parsed.headers.get('content-type')).toMatchObject({ value: 'application/pkcs7-mime' });
      expect(toBob.raw.includes(Buffer.from('for your eyes only'))).toBe(false);
      expect(toBob.raw.toString()).toMatch(/^DKIM-Signature:|Subject: Figures/m);
      fs.writeFileSync(path.join(dir, 'e2e-bob.eml'), toBob.raw);
      const inner = openssl(['cms', '-decrypt', '-in', 'e2e-bob.eml', '-recip', rsa.cert, '-inkey', rsa.key, '-binary'], dir);
      expect(inner.toString()).toMatch(/^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256/);
      fs.writeFileSync(path.join(dir, 'e2e-bob-inner.eml'), inner);
      const signedContent = openssl(['cms', '-verify', '-in', 'e2e-bob-inner.eml', '-CAfile', ca.caFile], dir);
      expect(signedContent).toEqual(splitMessage({ raw: original }).entity);
      // Dave has no certificate: the portal wrapper, S/MIME-signed by the tenant.
      expect(toDave.raw.includes(Buffer.from('for your eyes only'))).toBe(false);
      expect(toDave.parsed.headers.get('x-sealpost-message-id')).toBeTruthy();
      fs.writeFileSync(path.join(dir, 'e2e-dave.eml'), toDave.raw);
      const wrapper = openssl(['cms', '-verify', '-in', 'e2e-dave.eml', '-CAfile', ca.caFile], dir);
      expect(wrapper.toString()).toMatch(/Content-Type: multipart\/mixed/);

      // A tenant user's own S/MIME-signed mail passes through: its certificate is remembered.
      const erin = ca.issue({ name: 'erin', email: 'erin@acme.example' });
      fs.writeFileSync(path.join(dir, 'erin.txt'), 'Content-Type: text/plain\r\n\r\nSigned by Erin\r\n');
      const signed = openssl(
        ['cms', '-sign', '-in', 'erin.txt', '-signer', erin.cert, '-inkey', erin.key, '-md', 'sha256', '-binary', '-crlfeol'],
        dir,
      );
      const erinMail = Buffer.concat([
        Buffer.from(
          'From: erin@acme.example\r\nTo: bob@partner.example\r\nSubject: Signed\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <erin@acme.example>\r\n',
        ),
        signed,
      ]);
      await transport.sendMail({ envelope: { from: 'erin@acme.example', to: ['bob@partner.example'] }, raw: erinMail });
      // Remembered after the SMTP answer: waited for here.
      const learnt = () => ctx.db.selectFrom('smime_certificates').selectAll().where('address', '=', 'erin@acme.example').execute();
      await expect.poll(learnt, { timeout: 15_000, interval: 100 }).toMatchObject([{ kind: 'recipient', source: 'inbound' }]);
      // OpenSSL's signature announced its ciphers: AES-CBC, no AES-GCM.
      const erinCapabilities = (await learnt())[0]!.capabilities!.split(' ');
      expect(erinCapabilities).toContain(OID.aes256Cbc);
      expect(erinCapabilities).not.toContain(OID.aes256Gcm);
      transport.close();
    } finally {
      await worker.stop();
      await relay.stop();
      await sink.close();
      await ctx.close();
    }
  });
});

describe('the template decides', () => {
  it('the cipher follows what the recipient announced: AES-256-GCM for one whose signed mail listed it, AES-256-CBC for one whose did not', async () => {
    const sink = await startSmtpSink();
    const ctx = await createTestContext({ SMTP_URL: sink.url });
    const transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.dataDir });
    try {
      const tenant = await seedTenant(ctx);
      await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(ca.caPem), actor: 'test' });
      await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'smime', input: { smime: 'encrypt-when-possible' } });
      // Carol's client (an EC certificate) announces AES-256-GCM: a signature made as Sealpost makes its own.
      const carolSigner = { certificates: [pemToDer(ec.certPem)], privateKey: await importSigningKey({ pkcs8Pem: ec.keyPem }) };
      const carolMail = splitMessage({ raw: Buffer.from('From: carol@partner.example\r\nSubject: hi\r\n\r\nfrom Carol\r\n') });
      const carolSigned = joinMessage({
        outer: carolMail.outer,
        entity: await signEntity({ entity: carolMail.entity, signer: carolSigner }),
      });
      // Bob's (RSA) is OpenSSL's, whose standard capabilities list AES-CBC only.
      fs.writeFileSync(path.join(dir, 'bob-caps.txt'), 'Content-Type: text/plain\r\n\r\nfrom Bob\r\n');
      const bobSigned = Buffer.concat([
        Buffer.from('From: bob@partner.example\r\nSubject: hi\r\n'),
        openssl(
          ['cms', '-sign', '-in', 'bob-caps.txt', '-signer', rsa.cert, '-inkey', rsa.key, '-md', 'sha256', '-binary', '-crlfeol'],
          dir,
        ),
      ]);
      const remember = (raw: Buffer, sender: string) => rememberSignerCertificate({ db: ctx.db, tenantId: tenant.id, raw, sender });
      expect(await remember(carolSigned, 'carol@partner.example')).toBe('remembered');
      expect(await remember(bobSigned, 'bob@partner.example')).toBe('remembered');
      const before = sink.mails.length;
      const raw = sampleEml({ to: ['carol@partner.example', 'bob@partner.example'] });
      await sendMessage({ ctx, tenant, raw, template: 'smime' });
      await drainOutbox(ctx, transport);
      const mails = sink.mails.slice(before);
      const toCarol = mails.find((m) => m.rcptTo.includes('carol@partner.example'))!;
      const toBob = mails.find((m) => m.rcptTo.includes('bob@partner.example'))!;
      expect(toCarol.parsed.headers.get('content-type')).toMatchObject({
        value: 'application/pkcs7-mime',
        params: { 'smime-type': 'authEnveloped-data' },
      });
      expect(toBob.parsed.headers.get('content-type')).toMatchObject({
        value: 'application/pkcs7-mime',
        params: { 'smime-type': 'enveloped-data' },
      });
      fs.writeFileSync(path.join(dir, 'caps-carol.eml'), toCarol.raw);
      fs.writeFileSync(path.join(dir, 'caps-bob.eml'), toBob.raw);
      expect(openssl(['cms', '-cmsout', '-print', '-in', 'caps-carol.eml'], dir).toString()).toMatch(/algorithm: aes-256-gcm/);
      expect(openssl(['cms', '-cmsout', '-print', '-in', 'caps-bob.eml'], dir).toString()).toMatch(/algorithm: aes-256-cbc/);
      const entity = splitMessage({ raw }).entity;
      expect(openssl(['cms', '-decrypt', '-in', 'caps-carol.eml', '-recip', ec.cert, '-inkey', ec.key, '-binary'], dir)).toEqual(entity);
      expect(openssl(['cms', '-decrypt', '-in', 'caps-bob.eml', '-recip', rsa.cert, '-inkey', rsa.key, '-binary'], dir)).toEqual(entity);
      // Bob's next signed mail announces AES-256-GCM (his new client): his mail is AES-256-GCM from then on.
      const bobMail = splitMessage({ raw: Buffer.from('From: bob@partner.example\r\nSubject: hi\r\n\r\nnew client\r\n') });
      const bobSigner = { certificates: [pemToDer(rsa.certPem)], privateKey: await importSigningKey({ pkcs8Pem: rsa.keyPem }) };
      const bobNew = joinMessage({ outer: bobMail.outer, entity: await signEntity({ entity: bobMail.entity, signer: bobSigner }) });
      expect(await remember(bobNew, 'bob@partner.example')).toBe('known');
      const again = sink.mails.length;
      await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@partner.example'] }), template: 'smime' });
      await drainOutbox(ctx, transport);
      expect(sink.mails[again]!.parsed.headers.get('content-type')).toMatchObject({ params: { 'smime-type': 'authEnveloped-data' } });
    } finally {
      transport.close();
      await sink.close();
      await ctx.close();
    }
  });

  it('off (the default) leaves wrappers unsigned, sign signs them, and a certificate that stopped chaining gets the wrapper', async () => {
    const sink = await startSmtpSink();
    const ctx = await createTestContext({ SMTP_URL: sink.url });
    const transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.dataDir });
    try {
      const tenant = await seedTenant(ctx);
      await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(ca.caPem), actor: 'test' });
      const signing = ca.issue({ name: 'template-signing', email: 'alice@acme.example' });
      await importSigningCertificate({ ctx, tenant, p12: fs.readFileSync(signing.p12('pw')), password: 'pw', actor: 'test' });
      await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'recipient', file: Buffer.from(rsa.certPem), actor: 'test' });
      await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'signed', input: { smime: 'sign' } });
      await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'smime', input: { smime: 'encrypt-when-possible' } });
      const send = async (template?: string) => {
        const before = sink.mails.length;
        await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@partner.example'] }), template });
        await drainOutbox(ctx, transport);
        return sink.mails.slice(before);
      };
      const [plain] = await send();
      expect(plain!.parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/mixed' });
      expect(plain!.raw.includes(Buffer.from('application/pkcs7-signature'))).toBe(false);
      const [signed] = await send('signed');
      // `sign` signs the wrapper even for a recipient with a certificate: it does not encrypt.
      expect(signed!.parsed.headers.get('x-sealpost-message-id')).toBeTruthy();
      fs.writeFileSync(path.join(dir, 'template-signed.eml'), signed!.raw);
      expect(openssl(['cms', '-verify', '-in', 'template-signed.eml', '-CAfile', ca.caFile], dir).toString()).toMatch(/multipart\/mixed/);
      const [encrypted] = await send('smime');
      expect(encrypted!.parsed.headers.get('content-type')).toMatchObject({ value: 'application/pkcs7-mime' });
      // The tenant no longer trusts the CA: Bob's stored certificate does not chain, he gets the wrapper.
      await removeSmimeCertificate({
        db: ctx.db,
        tenantId: tenant.id,
        kind: 'ca',
        which: new crypto.X509Certificate(ca.caPem).fingerprint256,
        actor: 'test',
      });
      const [fallback] = await send('smime');
      expect(fallback!.parsed.headers.get('x-sealpost-message-id')).toBeTruthy();
      expect(fallback!.raw.includes(Buffer.from('application/pkcs7-mime'))).toBe(false);
    } finally {
      transport.close();
      await sink.close();
      await ctx.close();
    }
  });
});
