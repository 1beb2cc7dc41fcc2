import { parseBranding, type TBranding } from '../../templates/schema';
import { brandingFromForm } from './branding-form';

export type PreviewBrandingOptions = { query: URLSearchParams; stored: TBranding | null };

// The branding a preview shows: the form's values as they stand (from the query string), validated
// as a save would be; the logo is the https URL typed, else the stored one (an upload shows once
// saved). Invalid values are named, never rendered.
export function previewBranding({ query, stored }: PreviewBrandingOptions) {
  const typed = query.get('logoUrl')?.trim();
  const logo = query.get('removeLogo') === 'on' ? undefined : typed || stored?.look.logo;
  const parsed = parseBranding(brandingFromForm({ form: query, logo }));
  return parsed.success ? ({ kind: 'ok', branding: parsed.data } as const) : ({ kind: 'invalid', problems: parsed.problems } as const);
}
