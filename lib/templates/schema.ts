import { z } from 'zod';

// A template is what a message is sent with: its look (how mail and pages appear) and its policy
// (how recipients sign in, how long the message lives, how it is delivered, whether it may be
// forwarded). Tenants have a `default` template and may add others by name.

// Branding is tenant input that ends up in mail and pages: every field is validated where it
// enters, and is only ever rendered as escaped text, a colour or a checked URL.
const ZHexColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1f4e79');
const ZHttpsUrl = z
  .url({ protocol: /^https$/, error: 'must be an https:// URL' })
  .max(2048)
  .refine((u) => !/["'<>\s\\]/.test(u), 'must not contain quotes, brackets, spaces or backslashes');
const ZLogo = z.union([
  ZHttpsUrl,
  z
    .string()
    .max(140_000, 'an inline logo must be at most 100 KB')
    .regex(
      /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/,
      'must be an https URL or a base64 PNG, JPEG, GIF or WebP data URL',
    ),
]);
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), 'must not contain control characters');

export const LANGUAGES = ['en', 'zh-Hant', 'zh-Hans'] as const;
export type TLanguage = (typeof LANGUAGES)[number];

const LOOK = {
  displayName: text(120).optional(),
  logo: ZLogo.optional(),
  primaryColour: ZHexColour.default('#1f4e79'),
  buttonTextColour: ZHexColour.default('#ffffff'),
  introduction: text(500).optional(),
  emailText: text(2000).optional(),
  portalText: text(2000).optional(),
  disclaimer: text(2000).optional(),
  buttonText: text(40).optional(),
  privacyUrl: ZHttpsUrl.optional(),
  hideSubject: z.boolean().default(false),
  language: z.enum(LANGUAGES).default('en'),
};

// Usage restrictions ("IRM"): `none` is Encrypt-Only (the message is encrypted; once open, its
// reader may do with it what they like); `do-not-forward` also refuses forwarding (whatever
// allowForward says), keeps replies to the original sender and recipients, watermarks the
// message with its reader's address and the time, and prints a notice instead of the message.
export const RESTRICTIONS = ['none', 'do-not-forward'] as const;
export type TRestrictions = (typeof RESTRICTIONS)[number];

export const SMIME_MODES = ['off', 'sign', 'encrypt-when-possible'] as const;

const POLICY = {
  // Recipients may forward the message, encrypted, to addresses of their choosing.
  allowForward: z.boolean().default(false),
  restrictions: z.enum(RESTRICTIONS).default('none'),
  // How recipients may prove who they are on the sign-in page.
  // Google and Microsoft appear only where the operator registered them; `oidc` names the
  // tenant's own providers (`sealpost idp add`), in the order the page lists them.
  signInMethods: z
    .object({
      passcode: z.boolean().default(true),
      microsoft: z.boolean().default(true),
      google: z.boolean().default(true),
      oidc: z
        .array(z.string().regex(/^[a-z0-9]{1,32}$/, 'a provider name is 1–32 lowercase letters and digits'))
        .max(10)
        .default([]),
    })
    .strict()
    .default({ passcode: true, microsoft: true, google: true, oidc: [] }),
  expiryDays: z.number().int().min(1).max(3650).nullable().default(null),
  delivery: z
    .object({ link: z.boolean().default(true), attachment: z.boolean().default(true) })
    .default({ link: true, attachment: true })
    .refine((d) => d.link || d.attachment, 'at least one of link and attachment must be on'),
  // S/MIME (lib/smime): `sign` signs each wrapper mail with the tenant's signing certificate;
  // `encrypt-when-possible` also sends the message itself, S/MIME-encrypted, to each recipient
  // whose certificate Sealpost knows and trusts (no portal), and the wrapper to the others.
  smime: z.enum(SMIME_MODES).default('off'),
  // A reader's reply or forward goes out as the tenant ("<Reader> via <Tenant>", for DMARC); with
  // this on it carries Reply-To the reader, so a mail client's Reply reaches them (in clear, unless
  // the tenant's own rules encrypt it). Off, answers go through the portal only. Spam filters add
  // FREEMAIL_FORGED_REPLYTO (SpamAssassin: 1.2 to 2.5 points) when that address is at a free-mail
  // provider: a tenant whose readers mostly are may prefer it off.
  replyToReader: z.boolean().default(true),
};

export const ZLook = z.object(LOOK).strict();
export const ZPolicy = z.object(POLICY).strict();
export type TLook = z.infer<typeof ZLook>;
export type TPolicy = z.infer<typeof ZPolicy>;

// A template's branding as code reads it: `branding.look.*` renders, `branding.policy.*` decides.
export const ZBranding = z.object({ look: ZLook.prefault({}), policy: ZPolicy.prefault({}) }).strict();
export type TBranding = z.infer<typeof ZBranding>;

// The flat JSON `sealpost branding set` has always accepted (and templates were stored as before
// the split): look and policy fields side by side.
export const ZFlatBranding = z.object({ ...LOOK, ...POLICY }).strict();

const LOOK_KEYS = Object.keys(LOOK) as (keyof TLook)[];
const POLICY_KEYS = Object.keys(POLICY) as (keyof TPolicy)[];
const pick = <K extends string>(from: Record<string, unknown>, keys: K[]) =>
  Object.fromEntries(keys.filter((k) => k in from).map((k) => [k, from[k]]));

// Either shape in, `{ look, policy }` out: an object naming `look` or `policy` is the new shape,
// anything else the flat one (so its errors name the fields as they were written).
export function parseBranding(input: unknown): { success: true; data: TBranding } | { success: false; problems: string[] } {
  const isNested = typeof input === 'object' && input !== null && ('look' in input || 'policy' in input);
  const parsed = isNested ? ZBranding.safeParse(input) : ZFlatBranding.safeParse(input);
  if (!parsed.success) return { success: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  if (isNested) return { success: true, data: parsed.data as TBranding };
  const flat = parsed.data as Record<string, unknown>;
  return { success: true, data: { look: pick(flat, LOOK_KEYS) as TLook, policy: pick(flat, POLICY_KEYS) as TPolicy } };
}

export const DEFAULT_TEMPLATE = 'default';
export const ZTemplateName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'template names are lowercase letters, digits, - and _');
