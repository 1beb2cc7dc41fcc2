import 'server-only';
import { AppError } from '../errors';

// CSRF: a state-changing form post must come from a page of this very origin. Browsers say so
// in Sec-Fetch-Site (which no page can forge); our Referrer-Policy makes Chromium send
// `Origin: null` even on same-origin posts, so Origin is only the fallback for clients that do
// not send fetch metadata, and then it must name this host.
export function assertSameOrigin(request: Request): void {
  const refuse = () => new AppError('FORBIDDEN', 'This form cannot be sent from here.');
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) {
    if (site !== 'same-origin') throw refuse();
    return;
  }
  const origin = request.headers.get('origin');
  const host = request.headers.get('host');
  if (!origin || !host) throw refuse();
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    throw refuse();
  }
  if (parsed.host !== host.toLowerCase()) throw refuse();
}

// b***@gmail.com: enough for the recipient to recognise, not enough to harvest.
export const maskAddress = (address: string) => {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, 1)}***${address.slice(at)}`;
};
