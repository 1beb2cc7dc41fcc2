import fs from 'node:fs';
import { parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { ALLOWED_ATTRIBUTES, ALLOWED_TAGS } from '@/lib/messages/sanitise-html';
import { toMessageView } from '@/lib/messages/to-message-view';

const dir = new URL('./corpora/xss/', import.meta.url);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.txt') && !f.startsWith('LICENSE'))
  .sort();
const ATTACHMENT_URL = /^\/attachments\/\d+$/;
const SAFE_IMG = /^data:image\/(png|jpeg|gif|webp);base64,/i;

const asMime = (html: string) =>
  Buffer.from(
    [
      'From: mallory@evil.example',
      'To: bob@gmail.com',
      'Subject: payload',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(html, 'utf8').toString('base64'),
      '',
    ].join('\r\n'),
  );

type TNode = { type: string; name?: string; attribs?: Record<string, string>; children?: TNode[] };

// Everything that survives the sanitiser, checked on a parsed tree: tags and attributes from the
// allowlists only, no event handler, no script-bearing URL, no remote image while blocked.
function findViolation(html: string): string | null {
  const walk = (node: TNode): string | null => {
    if (node.type === 'script' || node.type === 'style') return `<${node.type}> element`;
    if (node.type === 'tag') {
      const name = node.name!;
      if (!ALLOWED_TAGS.includes(name)) return `tag <${name}>`;
      for (const [attr, value] of Object.entries(node.attribs ?? {})) {
        if (!(ALLOWED_ATTRIBUTES['*']!.includes(attr) || (ALLOWED_ATTRIBUTES[name] ?? []).includes(attr)))
          return `attribute ${attr} on <${name}>`;
        const v = value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
        if (attr === 'href' && !/^(https?:|mailto:)/.test(v) && /^[a-z][a-z0-9+.-]*:/.test(v)) return `href ${value}`;
        if (attr === 'src' && !(SAFE_IMG.test(value) || ATTACHMENT_URL.test(value))) return `src ${value}`;
        if (attr === 'style' && /url\(|expression|javascript|@import|\\/.test(v)) return `style ${value}`;
      }
    }
    for (const child of node.children ?? []) {
      const found = walk(child);
      if (found) return found;
    }
    return null;
  };
  return walk(parseDocument(html) as unknown as TNode);
}

describe(`XSS corpora (${files.length} files)`, () => {
  it.each(files)('%s: every payload as an HTML body comes out inert', async (file) => {
    const payloads = fs
      .readFileSync(new URL(file, dir), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    let tried = 0;
    for (const payload of payloads) {
      const view = await toMessageView({ mime: asMime(payload), attachmentUrl: (i) => `/attachments/${i}` });
      const violation = view.html === null ? null : findViolation(view.html);
      expect(violation, `payload ${JSON.stringify(payload)} left ${violation}`).toBeNull();
      tried += 1;
    }
    expect(tried).toBe(payloads.length);
    console.log(`${file}: ${tried} payloads sanitised`);
  });

  it('the checker itself catches what the sanitiser must remove', () => {
    expect(findViolation('<img src="data:image/png;base64,AA" onerror=alert(1)>')).toMatch(/onerror/);
    expect(findViolation('<a href="javascript:alert(1)">x</a>')).toMatch(/href/);
    expect(findViolation('<svg><script>alert(1)</script></svg>')).not.toBeNull();
    expect(findViolation('<p style="background:url(https://evil.example/t.gif)">x</p>')).toMatch(/style/);
  });
});

describe('message view', () => {
  it('keeps formatting and safe links, blocks remote images until allowed, maps cid: images', async () => {
    const html =
      '<p style="color:#c00">Hi <b>Bob</b> <a href="https://bank.example/x">statement</a></p><img src="https://tracker.example/p.gif"><img src="cid:logo@x">';
    const mime = Buffer.from(
      [
        'From: a@acme.example',
        'To: bob@gmail.com',
        'Subject: s',
        'MIME-Version: 1.0',
        'Content-Type: multipart/related; boundary="r"',
        '',
        '--r',
        'Content-Type: text/html; charset=utf-8',
        '',
        html,
        '--r',
        'Content-Type: image/svg+xml',
        'Content-ID: <logo@x>',
        'Content-Disposition: inline; filename="../../logo.svg"',
        '',
        '<svg/>',
        '--r--',
        '',
      ].join('\r\n'),
    );
    const blocked = await toMessageView({ mime, attachmentUrl: (i) => `/attachments/${i}` });
    expect(blocked.html).toContain('<b>Bob</b>');
    expect(blocked.html).toContain(
      'href="https://bank.example/x" target="_blank" rel="noopener noreferrer nofollow" title="https://bank.example/x"',
    );
    expect(blocked.html).not.toContain('tracker.example');
    expect(blocked.hasRemoteImages).toBe(true);
    expect(blocked.attachments[0]).toMatchObject({ filename: '_.._logo.svg', contentType: 'application/octet-stream' });
    const allowed = await toMessageView({ mime, allowRemoteImages: true, attachmentUrl: (i) => `/attachments/${i}` });
    expect(allowed.html).toContain('src="https://tracker.example/p.gif"');
  });

  it('shows inline (cid:) images as data: URLs, within bounds; an active type, an oversized image or a malformed id never', async () => {
    const png = (bytes: number) => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(bytes - 8, 1)]);
    const part = (cid: string, type: string, content: Buffer) =>
      [`--r`, `Content-Type: ${type}`, `Content-ID: <${cid}>`, 'Content-Transfer-Encoding: base64', '', content.toString('base64')].join(
        '\r\n',
      );
    const images = [
      part('logo@x', 'image/png', png(100)),
      part('svg@x', 'image/svg+xml', Buffer.from('<svg onload="alert(1)"/>')),
      part('big@x', 'image/png', png(1024 * 1024 + 1)),
      ...[1, 2, 3, 4, 5].map((n) => part(`m${n}@x`, 'image/png', png(1000 * 1000))),
    ];
    const refs = ['logo@x', 'logo@x', 'svg@x', 'big@x', '%E0%A4%A', 'm1@x', 'm2@x', 'm3@x', 'm4@x', 'm5@x'];
    const html = refs.map((cid, i) => `<img alt="i${i}" src="cid:${cid}">`).join('');
    const mime = Buffer.from(
      [
        'From: a@acme.example',
        'To: bob@gmail.com',
        'Subject: s',
        'MIME-Version: 1.0',
        'Content-Type: multipart/related; boundary="r"',
        '',
        '--r',
        'Content-Type: text/html; charset=utf-8',
        '',
        html,
        ...images,
        '--r--',
        '',
      ].join('\r\n'),
    );
    const view = await toMessageView({ mime, attachmentUrl: (i) => `/attachments/${i}` });
    const src = (alt: string) => new RegExp(`<img alt="${alt}"(?: src="([^"]*)")?`).exec(view.html!)?.[1];
    // A small PNG, twice: the same data: URL, its bytes exactly.
    expect(src('i0')).toBe(`data:image/png;base64,${png(100).toString('base64')}`);
    expect(src('i1')).toBe(src('i0'));
    // SVG (active content) and an image over 1 MiB stay attachments; a malformed id matches none.
    expect(src('i2')).toBe('/attachments/1');
    expect(src('i3')).toBe('/attachments/2');
    expect(src('i4')).toBeUndefined();
    // At most 4 MiB of inline images per message: the fifth megabyte image is not inlined.
    expect([5, 6, 7, 8].map((i) => src(`i${i}`)?.startsWith('data:image/png;base64,'))).toEqual([true, true, true, true]);
    expect(src('i9')).toBe('/attachments/7');
    expect(view.attachments.map((a) => a.size)).toEqual([100, 24, 1024 * 1024 + 1, 1e6, 1e6, 1e6, 1e6, 1e6]);
  });
});
