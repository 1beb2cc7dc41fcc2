import { Readable } from 'node:stream';
import { base64Lines } from '../base64-lines';
import type { TBranding } from '../../templates/schema';
import { formatMailDate, mailMessages } from '../../i18n/mail-messages';
import { BrandHeader, MAIL_FONT, renderStaticHtml } from './brand-header';

export type TMessageHtmlContent = {
  branding: TBranding;
  tenantName: string;
  senderLabel: string;
  origin: string;
  envelope: TEnvelopeText;
  recipientToken: string;
  expiresAt: number | null;
};

// The envelope token: as text, as latin1 bytes (one held for attachment-only delivery, as the
// outbox worker reads it), or one the server keeps, its text streamed anew from the store each
// time the mail is read (lib/store/envelope-parts.ts): `head` is its first characters.
export type TEnvelopeStream = { head: string; open(): AsyncIterable<string> };
export type TEnvelopeText = string | Buffer | TEnvelopeStream;

// message.html: opened from disk, it holds the envelope and the recipient token and posts them
// to the tenant's portal with a plain form, so it works with JavaScript off and runs no script.
function MessageHtml({
  branding,
  tenantName,
  senderLabel,
  origin,
  envelope,
  recipientToken,
  expiresAt,
}: Omit<TMessageHtmlContent, 'envelope'> & { envelope: string }) {
  const t = mailMessages(branding.look.language);
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; form-action ${origin}; base-uri 'none'`;
  return (
    <html lang={branding.look.language}>
      <head>
        <meta charSet="utf-8" />
        <meta httpEquiv="Content-Security-Policy" content={csp} />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${t.htmlTitle} – ${branding.look.displayName ?? tenantName}`}</title>
      </head>
      <body style={{ margin: 0, background: '#f3f4f6', fontFamily: MAIL_FONT, color: '#111827' }}>
        <main style={{ maxWidth: 600, margin: '0 auto', background: '#ffffff', minHeight: '100vh' }}>
          <BrandHeader branding={branding} tenantName={tenantName} />
          <div style={{ padding: 24, fontSize: 16, lineHeight: 1.5 }}>
            <h1 style={{ fontSize: 22, marginTop: 0 }}>{t.htmlTitle}</h1>
            <p>{branding.look.introduction ?? t.introduction(senderLabel)}</p>
            {branding.look.portalText ? <p style={{ whiteSpace: 'pre-line' }}>{branding.look.portalText}</p> : null}
            <p>{t.htmlInstructions}</p>
            {expiresAt ? <p>{t.expires(formatMailDate(expiresAt, branding.look.language))}</p> : null}
            <form method="post" action={`${origin}/open`} acceptCharset="utf-8">
              <input type="hidden" name="rt" value={recipientToken} />
              <input type="hidden" name="envelope" value={envelope} />
              <button
                type="submit"
                style={{
                  background: branding.look.primaryColour,
                  color: branding.look.buttonTextColour,
                  border: 0,
                  borderRadius: 6,
                  padding: '14px 28px',
                  minHeight: 48,
                  fontSize: 16,
                  fontWeight: 600,
                  cursor: 'pointer',
                }}
              >
                {branding.look.buttonText ?? t.readButton}
              </button>
            </form>
            <p style={{ color: '#6b7280', fontSize: 13 }}>{t.htmlNoScript}</p>
          </div>
          <footer style={{ padding: '16px 24px', borderTop: '1px solid #e5e7eb', fontSize: 12, color: '#6b7280' }}>
            {branding.look.disclaimer ? <p style={{ whiteSpace: 'pre-line', marginTop: 0 }}>{branding.look.disclaimer}</p> : null}
            {branding.look.privacyUrl ? (
              <p>
                <a href={branding.look.privacyUrl} rel="noopener noreferrer" style={{ color: '#374151' }}>
                  {t.privacy}
                </a>
              </p>
            ) : null}
            <p style={{ marginBottom: 0 }}>{t.poweredBy}</p>
          </footer>
        </main>
      </body>
    </html>
  );
}

const ENVELOPE_SLOT = 'SEALPOST-ENVELOPE-SLOT';
// An envelope held whole goes into the attachment in slices of this many bytes: small enough that
// what encoding makes of each (base64 text, wrapped lines) stays in V8's young generation.
const SLICE_BYTES = 3 * (1 << 14);

export type TMessageHtml = { before: Buffer; envelope: Buffer | TEnvelopeStream; after: Buffer };

// The page is rendered once around a slot; the envelope (up to 33 MB of base64url, which needs
// no escaping) is put in the slot as bytes rather than passed through React, which would copy
// it several times.
export async function renderMessageHtml({ envelope: token, ...content }: TMessageHtmlContent): Promise<TMessageHtml> {
  const envelope = typeof token === 'string' ? Buffer.from(token, 'latin1') : token;
  const start = Buffer.isBuffer(envelope) ? envelope.subarray(0, 4096).toString('latin1') : envelope.head;
  const page = await renderStaticHtml(<MessageHtml {...content} envelope={ENVELOPE_SLOT} />);
  const [before, after, ...rest] = page.split(ENVELOPE_SLOT);
  // The streamed ciphertext is base64url text by construction (envelopeText).
  if (before === undefined || after === undefined || rest.length || !/^[A-Za-z0-9_.-]*$/.test(start)) {
    throw new Error('message.html could not hold the envelope');
  }
  return { before: Buffer.from(before, 'utf8'), envelope, after: Buffer.from(after, 'utf8') };
}

// message.html as the attachment's whole MIME part (its fields, then the page in base64 lines),
// a view of the envelope's bytes at a time: a wrapper never holds a second copy of its envelope
// (the attachment is read once to DKIM-sign the mail and once to send it).
export function streamMessageHtml({ before, envelope, after }: TMessageHtml): Readable {
  return Readable.from(
    (async function* () {
      yield MESSAGE_HTML_FIELDS;
      yield* base64Lines(pagePieces({ before, envelope, after }));
    })(),
    { objectMode: false },
  );
}

// The page's bytes: around the envelope, a slice (or a piece of its streamed text) at a time.
async function* pagePieces({ before, envelope, after }: TMessageHtml): AsyncGenerator<Buffer | string> {
  yield before;
  if (Buffer.isBuffer(envelope)) for (let at = 0; at < envelope.length; at += SLICE_BYTES) yield envelope.subarray(at, at + SLICE_BYTES);
  else yield* envelope.open();
  yield after;
}

// What nodemailer writes for a text/html attachment named message.html, encoded in base64.
const MESSAGE_HTML_FIELDS = Buffer.from(
  'Content-Type: text/html; charset=utf-8; name=message.html\r\nContent-Transfer-Encoding: base64\r\n' +
    'Content-Disposition: attachment; filename=message.html\r\n\r\n',
  'latin1',
);
