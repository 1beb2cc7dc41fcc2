import type { TBranding } from '../../branding/schema';

export type BrandHeaderProps = { branding: TBranding; tenantName: string };

// Logo (a validated https or data: URL) and name on the tenant's colour; React escapes all text.
export function BrandHeader({ branding, tenantName }: BrandHeaderProps) {
  const name = branding.displayName ?? tenantName;
  return (
    <div style={{ background: branding.primaryColour, color: branding.buttonTextColour, padding: '16px 24px' }}>
      {branding.logo ? (
        <img src={branding.logo} alt={name} style={{ maxHeight: 48, maxWidth: 200, display: 'block' }} />
      ) : (
        <strong style={{ fontSize: 20 }}>{name}</strong>
      )}
    </div>
  );
}
