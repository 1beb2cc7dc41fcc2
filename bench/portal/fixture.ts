import MailComposer from 'nodemailer/lib/mail-composer';

export const HTML_TARGET_BYTES = 50 * 1024;

// A 1×1 PNG, sent inline (cid:) as mail clients do with a signature logo.
const LOGO_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

// One statement line: the nested tables, inline styles and links a bank's mail is made of.
const row = (i: number) => `
<tr style="border-bottom:1px solid #e5e7eb">
  <td style="padding:6px 8px;font-family:Arial,sans-serif;font-size:13px;color:#374151" valign="top">2026-11-${String((i % 28) + 1).padStart(2, '0')}</td>
  <td style="padding:6px 8px;font-family:Arial,sans-serif;font-size:13px;color:#111827">
    <strong>Payment ${1000 + i}</strong> to <a href="https://payees.acme.example/p/${i}?utm_source=statement&amp;utm_medium=email" style="color:#1d4ed8;text-decoration:underline">Supplier ${i} Ltd</a><br>
    <span style="color:#6b7280;font-size:12px">Reference INV-${20260000 + i * 7}, card ending ${String(1000 + ((i * 37) % 9000))}</span>
  </td>
  <td align="right" style="padding:6px 8px;font-family:Arial,sans-serif;font-size:13px;color:${i % 5 ? '#b91c1c' : '#15803d'};white-space:nowrap">${i % 5 ? '-' : '+'}${(((i * 7919) % 100000) / 100).toFixed(2)} EUR</td>
</tr>`;

const paragraph = (i: number) => `
<p style="margin:0 0 12px 0;font-family:Georgia,serif;font-size:15px;line-height:1.5;color:#1f2937">
  Section ${i}: as agreed in our <a href="https://acme.example/terms#s${i}">terms of business</a>, we review the account <em>every quarter</em>.
  Please check the entries below and <b>tell us within 30 days</b> if anything looks wrong; you can also
  <a href="mailto:support@acme.example?subject=Statement%20query%20${i}">write to support</a>.
</p>`;

// A realistic statement mail body of about `bytes` of HTML: header with a remote banner image (blocked
// until the reader allows it) and an inline logo, paragraphs, a long transactions table, a footer.
export function makeStatementHtml(bytes = HTML_TARGET_BYTES): string {
  const head = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Statement</title>
<style>.x{color:red}</style><script>alert(1)</script></head>
<body style="margin:0;padding:0;background-color:#f3f4f6">
<table width="100%" cellpadding="0" cellspacing="0" bgcolor="#f3f4f6"><tr><td align="center">
<table width="640" cellpadding="0" cellspacing="0" style="background-color:#ffffff;border:1px solid #d1d5db">
<tr><td style="padding:16px"><img src="cid:logo@acme.example" alt="Acme Bank" width="120" height="40">
<img src="https://cdn.acme.example/banners/november.png" alt="November news" width="600" height="120"></td></tr>
<tr><td style="padding:16px"><h1 style="font-family:Arial,sans-serif;font-size:22px;color:#111827">Your November statement</h1>`;
  const tail = `</td></tr>
<tr><td style="padding:16px;font-family:Arial,sans-serif;font-size:11px;color:#6b7280">Acme Bank plc, 1 Example Street.
<a href="https://acme.example/unsubscribe?u=bob" onclick="steal()">Manage preferences</a> · <a href="javascript:alert(1)">Privacy</a></td></tr>
</table></td></tr></table></body></html>`;
  const parts: string[] = [head];
  let size = head.length + tail.length;
  for (let i = 0; size < bytes; i++) {
    const chunk =
      i % 10 === 0
        ? `${paragraph(i)}<table width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse">`
        : i % 10 === 9
          ? `${row(i)}</table>`
          : row(i);
    parts.push(chunk);
    size += chunk.length;
  }
  if (!parts.at(-1)!.endsWith('</table>')) parts.push('</table>');
  parts.push(tail);
  return parts.join('');
}

export type MakeStatementEmlOptions = { to: string[]; htmlBytes?: number };

// The whole RFC 5322 message as a mail client would send it: quoted-printable HTML with a plain
// text alternative and the inline logo, composed by nodemailer rather than by hand.
export async function makeStatementEml({
  to,
  htmlBytes = HTML_TARGET_BYTES,
}: MakeStatementEmlOptions): Promise<{ eml: Buffer; htmlBytes: number }> {
  const html = makeStatementHtml(htmlBytes);
  const composer = new MailComposer({
    from: 'Alice Example <alice@acme.example>',
    to,
    subject: 'Your November statement',
    date: new Date('2026-11-23T10:00:00Z'),
    messageId: '<statement-2026-11@acme.example>',
    text: 'Your November statement is attached as HTML. Questions: support@acme.example.',
    html,
    attachments: [{ filename: 'logo.png', content: LOGO_PNG, contentType: 'image/png', cid: 'logo@acme.example' }],
  });
  const eml = await composer.compile().build();
  return { eml, htmlBytes: Buffer.byteLength(html) };
}
