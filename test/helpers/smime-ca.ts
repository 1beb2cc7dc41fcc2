import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type TSmimeLeafOptions = {
  name: string;
  email: string;
  key?: 'rsa' | 'ec' | 'rsa-pss';
  // An RSA-PSS key's MGF1 digest restriction (sha256 unless given).
  pssMgf1?: string;
  startDate?: string;
  endDate?: string;
  // Overrides for the extensions (OpenSSL x509v3 config syntax).
  keyUsage?: string;
  extendedKeyUsage?: string;
  crlUrl?: string;
};
export type TSmimeLeaf = { name: string; key: string; cert: string; certPem: string; keyPem: string; p12(password: string): string };
export type TSmimeCa = {
  dir: string;
  caFile: string;
  caPem: string;
  issue(o: TSmimeLeafOptions): TSmimeLeaf;
  crl(revoked?: string[]): string;
};

export const openssl = (args: string[], cwd: string, input?: Buffer | string) =>
  execFileSync('openssl', args, { cwd, input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });

export const opensslTime = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

const CA_CONFIG = `[ca]
default_ca = the_ca
[the_ca]
dir = .
database = index.txt
new_certs_dir = certs
serial = serial
crlnumber = crlnumber
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_crl_days = 2
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
`;

// A throwaway S/MIME certificate authority made with Debian's openssl (`openssl ca`, so that
// start and end dates, key usages and addresses are whatever a test needs), in a directory.
export function createSmimeCa(dir: string, name = 'Sealpost SMIME Test CA'): TSmimeCa {
  fs.mkdirSync(path.join(dir, 'certs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'ca.cnf'), CA_CONFIG);
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(path.join(dir, 'crlnumber'), '1000\n');
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '30',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const caFile = path.join(dir, 'ca.pem');
  return {
    dir,
    caFile,
    caPem: fs.readFileSync(caFile, 'utf8'),
    issue(o) {
      const base = o.name;
      if (o.key === 'ec') openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${base}.key`], dir);
      else if (o.key === 'rsa-pss')
        openssl(
          [
            'genpkey',
            '-algorithm',
            'RSA-PSS',
            '-pkeyopt',
            'rsa_keygen_bits:2048',
            '-pkeyopt',
            'rsa_pss_keygen_md:sha256',
            '-pkeyopt',
            `rsa_pss_keygen_mgf1_md:${o.pssMgf1 ?? 'sha256'}`,
            '-out',
            `${base}.key`,
          ],
          dir,
        );
      else openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${base}.key`], dir);
      openssl(['req', '-new', '-key', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${o.name}`], dir);
      const ext = [
        'basicConstraints=CA:FALSE',
        `keyUsage=${o.keyUsage ?? 'critical,digitalSignature,keyEncipherment,keyAgreement'}`,
        `extendedKeyUsage=${o.extendedKeyUsage ?? 'emailProtection'}`,
        `subjectAltName=email:${o.email}`,
        ...(o.crlUrl ? [`crlDistributionPoints=URI:${o.crlUrl}`] : []),
      ].join('\n');
      fs.writeFileSync(path.join(dir, `${base}.ext`), `${ext}\n`);
      openssl(
        [
          'ca',
          '-batch',
          '-config',
          'ca.cnf',
          '-in',
          `${base}.csr`,
          '-out',
          `${base}.pem`,
          '-notext',
          '-extfile',
          `${base}.ext`,
          '-startdate',
          o.startDate ?? opensslTime(new Date(Date.now() - 3600_000)),
          '-enddate',
          o.endDate ?? opensslTime(new Date(Date.now() + 10 * 86400_000)),
        ],
        dir,
      );
      const key = path.join(dir, `${base}.key`);
      const cert = path.join(dir, `${base}.pem`);
      return {
        name: base,
        key,
        cert,
        keyPem: fs.readFileSync(key, 'utf8'),
        certPem: fs.readFileSync(cert, 'utf8'),
        p12(password) {
          const out = path.join(dir, `${base}.p12`);
          openssl(['pkcs12', '-export', '-inkey', key, '-in', cert, '-certfile', caFile, '-out', out, '-passout', `pass:${password}`], dir);
          return out;
        },
      };
    },
    crl(revoked = []) {
      for (const name of revoked) openssl(['ca', '-config', 'ca.cnf', '-revoke', `${name}.pem`], dir);
      openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl.pem'], dir);
      openssl(['crl', '-in', 'ca.crl.pem', '-outform', 'DER', '-out', 'ca.crl'], dir);
      return path.join(dir, 'ca.crl');
    },
  };
}
