import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieHeader, SETUP_TIMEOUT_MS, startPortal, type TPortal } from './helpers/portal';
import { requestAs } from './helpers/server';

// What a reader cannot do: read without a session or with another message's, post from a foreign
// origin (CSRF), fetch attachments other than as downloads, change state on GET, reply without limit.

let portal: TPortal | undefined;
let { sink, server, browser, messageId, links, passcodeCount, signIn } = {} as TPortal;
beforeAll(async () => {
  portal = await startPortal();
  ({ sink, server, browser, messageId, links, passcodeCount, signIn } = portal);
}, SETUP_TIMEOUT_MS);
afterAll(() => portal?.stop());

describe('portal isolation', () => {
  let signedIn: BrowserContext;
  beforeAll(async () => {
    signedIn = await browser.newContext();
    await signIn(await signedIn.newPage(), 'dave@example.org', 'isolation');
  });
  afterAll(() => signedIn?.close());

  it('refuses reading without a session (401), with a session for another message (403), and unknown hosts (404)', async () => {
    const host = `acme.localhost:${server.port}`;
    const anonymous = await requestAs(server.port, host, `/m/${messageId}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain('Please sign in');
    expect(anonymous.body).toContain('Acme Bank');
    expect(anonymous.body).not.toContain('The secret body');
    expect((await requestAs(server.port, host, `/m/${messageId}/attachments/0`)).status).toBe(401);
    const cookies = await signedIn.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const other = '00000000-0000-4000-8000-000000000000';
    const elsewhere = await requestAs(server.port, host, `/m/${other}`, { headers: { cookie } });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toContain('This message was not sent to you');
    const mine = await requestAs(server.port, host, `/m/${messageId}`, { headers: { cookie } });
    expect(mine.status).toBe(200);
    // Acme's template does not allow forwarding: no button, and the page refuses.
    expect(mine.body).not.toContain('>Forward<');
    expect((await requestAs(server.port, host, `/m/${messageId}/forward`, { headers: { cookie } })).status).toBe(403);
    // The session cookie is worthless on any other host.
    expect((await requestAs(server.port, `other.localhost:${server.port}`, `/m/${messageId}`, { headers: { cookie } })).status).toBe(404);
  });

  it('refuses a passcode request or a sign-in posted from a foreign origin (CSRF)', async () => {
    const host = `acme.localhost:${server.port}`;
    const token = links['carol@yahoo.com']!.split('/r/')[1]!;
    const before = passcodeCount('carol@yahoo.com');
    const foreign: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://other.localhost:${server.port}` },
      // A browser says where a post comes from; a same-looking Origin does not outweigh it.
      { origin: `http://${host}`, 'sec-fetch-site': 'cross-site' },
      { origin: `http://${host}`, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of foreign) {
      const form = { ...headers, 'content-type': 'application/x-www-form-urlencoded' };
      expect(
        (await requestAs(server.port, host, `/r/${token}/passcode`, { method: 'POST', headers: form, body: '' })).status,
        JSON.stringify(headers),
      ).toBe(403);
      expect(
        (await requestAs(server.port, host, `/r/${token}/signin`, { method: 'POST', headers: form, body: 'passcode=12345678' })).status,
        JSON.stringify(headers),
      ).toBe(403);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(passcodeCount('carol@yahoo.com')).toBe(before);
  });

  it('serves attachments only as downloads, with nosniff', async () => {
    const cookie = (await signedIn.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await requestAs(server.port, `acme.localhost:${server.port}`, `/m/${messageId}/attachments/0`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="statement.pdf"/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(
      (await requestAs(server.port, `acme.localhost:${server.port}`, `/m/${messageId}/attachments/7`, { headers: { cookie } })).status,
    ).toBe(404);
  });

  it('shows a damaged link as such (400), and changes nothing on GET', async () => {
    const host = `acme.localhost:${server.port}`;
    const res = await requestAs(server.port, host, '/r/not-a-token');
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('/r/not-a-token/gone');
    const gone = await requestAs(server.port, host, '/r/not-a-token/gone');
    expect(gone.status).toBe(400);
    expect(gone.body).toContain('This link cannot be used');
    expect(gone.body).toContain('Acme Bank');
    const before = passcodeCount('bob@gmail.com');
    await requestAs(server.port, `acme.localhost:${server.port}`, new URL(links['bob@gmail.com']!).pathname);
    await new Promise((r) => setTimeout(r, 300));
    expect(passcodeCount('bob@gmail.com')).toBe(before);
  });

  it('the 31st reply within an hour gets the 429 page, and the reply form then says so before anything is typed', async () => {
    const host = `acme.localhost:${server.port}`;
    const headers = {
      cookie: await cookieHeader(signedIn),
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/x-www-form-urlencoded',
    };
    const reply = () =>
      requestAs(server.port, host, `/m/${messageId}/reply/send`, { method: 'POST', headers, body: 'all=0&body=Thank+you' });
    const before = sink.mails.length;
    for (let i = 0; i < 30; i += 1) {
      const ok = await reply();
      expect(ok.status).toBe(303);
      expect(ok.headers.location).toBe(`/m/${messageId}?replied=1`);
    }
    const refused = await reply();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toContain('Please wait a moment');
    expect(refused.body).toContain(`href="/m/${messageId}/reply"`);
    const form = await requestAs(server.port, host, `/m/${messageId}/reply`, { headers: { cookie: headers.cookie } });
    expect(form.status).toBe(200);
    expect(form.body).toContain('You have sent many replies in the last hour.');
    expect(form.body).not.toContain(`action="/m/${messageId}/reply/send"`);
    // The 30 that were accepted reach the sender (and the outbox is quiet again for the next tests).
    const replies = () =>
      sink.mails.slice(before).filter((m) => m.rcptTo[0] === 'alice@acme.example' && m.parsed.subject === 'Re: Your statement');
    const start = Date.now();
    while (replies().length < 30 && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 100));
    expect(replies()).toHaveLength(30);
  }, 120_000);
});
