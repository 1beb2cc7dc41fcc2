import { LANGUAGES, type TBranding } from '../../templates/schema';

// A template's form, field by field: what the admin posts (or, for a preview, puts in the query
// string) becomes the `{ look, policy }` input setBranding validates. Empty text is "not set".
export const TEXT_FIELDS = [
  { name: 'displayName', label: 'Display name', max: 120, isLong: false },
  { name: 'introduction', label: 'Introduction (first line of the mail)', max: 500, isLong: true },
  { name: 'emailText', label: 'Mail text', max: 2000, isLong: true },
  { name: 'portalText', label: 'Portal text', max: 2000, isLong: true },
  { name: 'disclaimer', label: 'Disclaimer', max: 2000, isLong: true },
  { name: 'buttonText', label: 'Button text', max: 40, isLong: false },
  { name: 'privacyUrl', label: 'Privacy notice (https URL)', max: 2048, isLong: false },
] as const;

export const COLOUR_FIELDS = [
  { name: 'primaryColour', label: 'Brand colour' },
  { name: 'buttonTextColour', label: 'Button text colour' },
] as const;

export const POLICY_CHECKBOXES = [
  { name: 'allowForward', label: 'Recipients may forward the message' },
  { name: 'passcode', label: 'Sign-in with a passcode by mail' },
  { name: 'microsoft', label: 'Sign-in with Microsoft' },
  { name: 'google', label: 'Sign-in with Google' },
  { name: 'deliveryLink', label: 'Deliver as a link' },
  { name: 'deliveryAttachment', label: 'Deliver as an attachment (message.html)' },
  {
    name: 'replyToReader',
    label:
      'A reader’s reply or forward carries their address as Reply-To (off: answers go through the portal only; on, spam filters add a little when that address is at a free-mail provider)',
  },
] as const;

export const SMIME_CHOICES = [
  { value: 'off', label: 'Off' },
  { value: 'sign', label: 'Sign wrapper mails with the tenant’s certificate' },
  { value: 'encrypt-when-possible', label: 'S/MIME to recipients with a known certificate, the portal otherwise' },
] as const;

export const RESTRICTION_CHOICES = [
  {
    value: 'none',
    label: 'Encrypt-Only',
    help: 'The message is encrypted; once recipients have read it they may print, save, reply to it and (if allowed above) forward it.',
  },
  {
    value: 'do-not-forward',
    label: 'Do Not Forward',
    help: 'No forwarding (whatever the box above says); replies go only to the sender and the original recipients; the reader’s address and the time are drawn over the message; printing shows a notice instead. Attachments can still be opened and downloaded. Nothing stops a reader photographing the screen or retyping the text.',
  },
] as const;

type TFormLike = { get(name: string): string | null | File | unknown };

const str = (form: TFormLike, name: string) => {
  const v = form.get(name);
  return typeof v === 'string' && v.trim() !== '' ? v.replace(/\r\n/g, '\n').trim() : undefined;
};
const isOn = (form: TFormLike, name: string) => form.get(name) === 'on';

export type BrandingFromFormOptions = { form: TFormLike; logo: string | undefined };

// The form's fields as setBranding's input. The logo comes separately (an upload, the https URL
// field, or the stored one kept).
export function brandingFromForm({ form, logo }: BrandingFromFormOptions) {
  const look: Record<string, unknown> = { logo };
  for (const f of TEXT_FIELDS) look[f.name] = str(form, f.name);
  for (const f of COLOUR_FIELDS) look[f.name] = str(form, f.name);
  look.hideSubject = isOn(form, 'hideSubject');
  const language = str(form, 'language');
  look.language = (LANGUAGES as readonly string[]).includes(language ?? '') ? language : 'en';
  const expiry = str(form, 'expiryDays');
  const oidc = (str(form, 'oidc') ?? '').split(/[\s,]+/).filter(Boolean);
  const policy = {
    allowForward: isOn(form, 'allowForward'),
    // Anything but the two values is refused by the schema, by name.
    restrictions: str(form, 'restrictions') ?? 'none',
    signInMethods: { passcode: isOn(form, 'passcode'), microsoft: isOn(form, 'microsoft'), google: isOn(form, 'google'), oidc },
    expiryDays: expiry === undefined ? null : /^\d{1,4}$/.test(expiry) ? Number(expiry) : expiry,
    delivery: { link: isOn(form, 'deliveryLink'), attachment: isOn(form, 'deliveryAttachment') },
    // Anything but the three values is refused by the schema, by name.
    smime: str(form, 'smime') ?? 'off',
    replyToReader: isOn(form, 'replyToReader'),
  };
  return { look, policy };
}

// A stored template as the form's values (the query string of a preview).
export function brandingToForm(branding: TBranding): Record<string, string> {
  const { look, policy } = branding;
  const values: Record<string, string> = {};
  for (const f of TEXT_FIELDS) if (look[f.name]) values[f.name] = String(look[f.name]);
  values.primaryColour = look.primaryColour;
  values.buttonTextColour = look.buttonTextColour;
  values.language = look.language;
  if (look.hideSubject) values.hideSubject = 'on';
  if (look.logo?.startsWith('https://')) values.logoUrl = look.logo;
  if (policy.allowForward) values.allowForward = 'on';
  values.restrictions = policy.restrictions;
  if (policy.signInMethods.passcode) values.passcode = 'on';
  if (policy.signInMethods.microsoft) values.microsoft = 'on';
  if (policy.signInMethods.google) values.google = 'on';
  if (policy.signInMethods.oidc.length) values.oidc = policy.signInMethods.oidc.join(', ');
  if (policy.expiryDays !== null) values.expiryDays = String(policy.expiryDays);
  if (policy.delivery.link) values.deliveryLink = 'on';
  if (policy.delivery.attachment) values.deliveryAttachment = 'on';
  values.smime = policy.smime;
  if (policy.replyToReader) values.replyToReader = 'on';
  return values;
}
