// S/MIME sign and encrypt throughput against `openssl cms`: `npm run bench:smime`.
//
// The same MIME entity (a 50 KB and a 25 MB message), signed (detached, SHA-256, RSA-2048) and
// encrypted (AES-256-CBC EnvelopedData and AES-256-GCM AuthEnvelopedData, RSA-OAEP to one
// recipient) by Sealpost (signEntity / encryptEntity:
// pkijs with Node's WebCrypto) and by Debian's openssl on the same machine, in one run,
// alternating. openssl's figure includes starting the process (about what one CLI call costs);
// its input and output go through files in a temporary directory. Each figure is the median.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { encryptEntity } from '@/lib/smime/encrypt-entity';
import { signEntity } from '@/lib/smime/sign-entity';
import { importSigningKey } from '@/lib/smime/signer-key';
import { createSmimeCa, openssl } from '../../test/helpers/smime-ca';

const SIZES = [
  { name: '50 KB', bytes: 50 * 1024, rounds: 15 },
  { name: '25 MB', bytes: 25 * 1024 * 1024, rounds: 3 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(work: () => unknown): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

// A message entity of about `bytes`: a text part and a base64 attachment, CRLF lines.
function entityOf(bytes: number): Buffer {
  const attachment = crypto
    .randomBytes(Math.floor((bytes * 3) / 4))
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe figures.\r\n' +
      `--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n--b1--\r\n`,
  );
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-bench-smime-'));
  try {
    const leaf = createSmimeCa(dir, 'Bench CA').issue({ name: 'bench', email: 'bench@acme.example' });
    const keyPem = leaf.keyPem;
    const certDer = new Uint8Array(new crypto.X509Certificate(leaf.certPem).raw);
    const signer = { certificates: [certDer], privateKey: await importSigningKey({ pkcs8Pem: keyPem }) };
    const oaep = ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'];
    console.log(`S/MIME throughput, Sealpost (pkijs + WebCrypto) vs openssl ${openssl(['version'], dir).toString().trim()}`);
    console.log('size    operation   sealpost ms   MB/s   openssl ms   MB/s   sealpost/openssl time');
    for (const size of SIZES) {
      const entity = entityOf(size.bytes);
      fs.writeFileSync(path.join(dir, 'in.eml'), entity);
      const mb = entity.length / 2 ** 20;
      const results = {
        sign: { ours: [] as number[], theirs: [] as number[] },
        encrypt: { ours: [] as number[], theirs: [] as number[] },
        'encrypt-gcm': { ours: [] as number[], theirs: [] as number[] },
      };
      for (let round = 0; round < size.rounds; round += 1) {
        results.sign.ours.push(await time(() => signEntity({ entity, signer })));
        results.sign.theirs.push(
          await time(() =>
            openssl(
              ['cms', '-sign', '-binary', '-md', 'sha256', '-signer', leaf.cert, '-inkey', leaf.key, '-in', 'in.eml', '-out', 'signed.eml'],
              dir,
            ),
          ),
        );
        results.encrypt.ours.push(await time(() => encryptEntity({ content: entity, recipients: [certDer] })));
        results.encrypt.theirs.push(
          await time(() =>
            openssl(['cms', '-encrypt', '-binary', '-aes256', '-in', 'in.eml', '-out', 'enc.eml', '-recip', leaf.cert, ...oaep], dir),
          ),
        );
        results['encrypt-gcm'].ours.push(await time(() => encryptEntity({ content: entity, recipients: [certDer], cipher: 'aes256-gcm' })));
        results['encrypt-gcm'].theirs.push(
          await time(() =>
            openssl(['cms', '-encrypt', '-binary', '-aes-256-gcm', '-in', 'in.eml', '-out', 'enc.eml', '-recip', leaf.cert, ...oaep], dir),
          ),
        );
      }
      for (const op of ['sign', 'encrypt', 'encrypt-gcm'] as const) {
        const ours = median(results[op].ours);
        const theirs = median(results[op].theirs);
        console.log(
          `${size.name.padEnd(7)} ${op.padEnd(11)} ${ours.toFixed(1).padStart(11)} ${(mb / (ours / 1000)).toFixed(1).padStart(6)} ${theirs.toFixed(1).padStart(12)} ${(mb / (theirs / 1000)).toFixed(1).padStart(6)}   ${(ours / theirs).toFixed(2)}×`,
        );
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
