// The portal's document as the root layout (app/layout.tsx) frames every page: its title and
// description, and its body's classes. Shared with portalDocument (./portal-document.tsx), which
// frames the pages route handlers render themselves, so the two cannot drift apart.
export const SITE = { title: 'Sealpost', description: 'Encrypted email for organisations' } as const;
export const BODY_CLASS = 'min-h-screen bg-gray-50 text-gray-900 antialiased';
