import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../test/helpers/cli';
import { requestAs, type THttpResponse } from '../../test/helpers/server';
import type { TSmtpSink } from '../../test/helpers/smtp-sink';

export type TReader = { address: string; landingPath: string; verifyPath: string; cookie: string };

// localAddress: the reader's own loopback address (through nginx, the one its X-Forwarded-For names).
export type TJourneyTarget = { port: number; host: string; sink: TSmtpSink; localAddress?: string };

// Sends `eml` through the real `sealpost send`, as an operator would, and waits for one wrapper
// mail per recipient.
export async function sendThroughCli({
  eml,
  slug,
  to,
  dir,
  cliEnv,
  sink,
}: {
  eml: Buffer;
  slug: string;
  to: string[];
  dir: string;
  cliEnv: Record<string, string>;
  sink: TSmtpSink;
}) {
  const file = path.join(dir, 'statement.eml');
  fs.writeFileSync(file, eml);
  const sent = runCli(['send', '--tenant', slug, file], cliEnv);
  if (sent.status !== 0 || !sent.json?.messageId) throw new Error(`sealpost send failed: ${sent.stderr || sent.stdout}`);
  await sink.waitFor(sink.mails.length + to.length, 30_000);
  return sent.json.messageId as string;
}

// The landing link a recipient finds in their wrapper mail (path only: we talk to 127.0.0.1 with
// the tenant's Host header).
function wrapperLink(sink: TSmtpSink, address: string): string {
  const mail = sink.mails.find((m) => m.rcptTo[0] === address && /\/r\//.test(String(m.parsed.html)));
  const href = /href="(https?:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail?.parsed.html))?.[1];
  if (!href) throw new Error(`no wrapper link for ${address}`);
  return new URL(href).pathname;
}

async function passcodeFromSink(sink: TSmtpSink, address: string, seen: number): Promise<string> {
  const started = Date.now();
  for (;;) {
    const mails = sink.mails.filter((m) => m.rcptTo[0] === address && /passcode/i.test(m.parsed.subject ?? ''));
    const code = mails.length > seen ? /(\d{8})/.exec(mails.at(-1)!.parsed.subject ?? '')?.[1] : undefined;
    if (code) return code;
    if (Date.now() - started > 20_000) throw new Error(`no passcode mail for ${address}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cookiePair = (res: THttpResponse, name: string) => {
  const set = res.headers['set-cookie'] ?? [];
  const line = set.find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
  if (!line) throw new Error(`no ${name} cookie in the answer (status ${res.status})`);
  return line.split(';')[0]!;
};

function expectStatus(res: THttpResponse, status: number, what: string) {
  if (res.status !== status)
    throw new Error(`${what}: expected HTTP ${status}, got ${res.status} ${res.headers.location ?? ''} ${res.body.slice(0, 200)}`);
}

// What a browser does with JavaScript off: GET the landing page, post its form, GET the passcode
// page, post the code from the mail's subject, follow to the message. Form posts carry the fetch
// metadata a browser adds (the portal's CSRF check reads Sec-Fetch-Site).
export async function signIn({ port, host, sink, localAddress }: TJourneyTarget, address: string, messageId: string): Promise<TReader> {
  const get = (p: string, cookie?: string) => requestAs(port, host, p, { localAddress, headers: cookie ? { cookie } : {} });
  const post = (p: string, body: string, cookie?: string) =>
    requestAs(port, host, p, {
      localAddress,
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
        'sec-fetch-mode': 'navigate',
        ...(cookie ? { cookie } : {}),
      },
    });

  const landingPath = wrapperLink(sink, address);
  expectStatus(await get(landingPath), 200, 'landing page');
  const seen = sink.mails.filter((m) => m.rcptTo[0] === address && /passcode/i.test(m.parsed.subject ?? '')).length;
  const asked = await post(`${landingPath}/passcode`, '');
  expectStatus(asked, 303, 'passcode request');
  const challengeCookie = cookiePair(asked, 'sealpost-passcode');
  const verifyPath = asked.headers.location!;
  expectStatus(await get(verifyPath, challengeCookie), 200, 'passcode page');
  const code = await passcodeFromSink(sink, address, seen);
  const signedIn = await post(`${landingPath}/signin`, `passcode=${code}`, challengeCookie);
  expectStatus(signedIn, 303, 'sign-in');
  if (signedIn.headers.location !== `/m/${messageId}`) throw new Error(`sign-in went to ${signedIn.headers.location}`);
  const cookie = cookiePair(signedIn, 'sealpost-session');
  expectStatus(await get(`/m/${messageId}`, cookie), 200, 'message page');
  return { address, landingPath, verifyPath, cookie };
}
