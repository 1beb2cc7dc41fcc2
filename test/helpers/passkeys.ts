import type { Browser, BrowserContext, Page } from 'playwright-core';

// A browser context with its own platform authenticator (ctap2, internal, resident keys, UV),
// through Chromium's virtual authenticator over CDP, at 390 px wide.
const AUTHENTICATOR = {
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
} as const;

export type TPasskeyContext = { context: BrowserContext; page: Page; swapAuthenticator(): Promise<void> };

export async function contextWithPasskeys(browser: Browser, options: { javaScriptEnabled?: boolean } = {}): Promise<TPasskeyContext> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, ...options });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  let { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR });
  // Another device: the first authenticator (and its passkeys) gone, a new empty one in its place.
  const swapAuthenticator = async () => {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR }));
  };
  return { context, page, swapAuthenticator };
}

// An invitation link opened and a passkey registered: the console's first page.
export async function registerPasskey(page: Page, link: string) {
  await page.goto(link);
  await page.getByRole('button', { name: 'Register a passkey' }).click();
  await page.waitForURL(/\/admin\/messages$/);
}
