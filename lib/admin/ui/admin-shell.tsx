import 'server-only';
import type { ReactNode } from 'react';
import type { TAdminSession } from '../admin-session';

const PAGES = [
  ['/admin/messages', 'Messages'],
  ['/admin/audit', 'Audit log'],
  ['/admin/templates', 'Templates'],
  ['/admin/rules', 'Rules'],
  ['/admin/connectors', 'Connectors'],
  ['/admin/admins', 'Admins'],
  ['/admin/identity-providers', 'Identity providers'],
  ['/admin/domain', 'Custom domain'],
  ['/admin/keys', 'Keys'],
  ['/admin/credentials', 'API keys'],
  ['/admin/passkeys', 'Your passkeys'],
] as const;

export type AdminShellProps = { tenantName: string; session?: TAdminSession | null; children: ReactNode };

export const ADMIN_BUTTON =
  'inline-flex min-h-11 items-center justify-center rounded-md bg-blue-800 px-5 py-2 font-semibold text-white focus:outline-none focus-visible:ring-4 focus-visible:ring-offset-2';
export const ADMIN_DANGER_BUTTON =
  'inline-flex min-h-11 items-center justify-center rounded-md bg-red-800 px-5 py-2 font-semibold text-white focus:outline-none focus-visible:ring-4 focus-visible:ring-offset-2';
export const ADMIN_INPUT = 'mt-1 block min-h-11 w-full rounded-md border border-gray-500 px-3 py-2';

// The console's frame: the tenant's name, the pages, who is signed in and the sign-out form.
// Plain links and forms: every page works without JavaScript (but the passkey step).
export function AdminShell({ tenantName, session, children }: AdminShellProps) {
  return (
    <div className="min-h-screen">
      <header className="bg-gray-900 px-4 py-3 text-white sm:px-6">
        <p className="text-lg font-semibold">{tenantName} · Admin</p>
        {session ? (
          <div className="mt-2 flex flex-wrap items-center gap-x-4 gap-y-2">
            <nav aria-label="Admin pages">
              <ul className="flex flex-wrap gap-x-4 gap-y-2">
                {PAGES.map(([href, label]) => (
                  <li key={href}>
                    <a className="underline" href={href}>
                      {label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <p className="break-all text-sm">
              {session.admin.email} ({session.admin.role})
            </p>
            <form method="post" action="/admin/signout">
              <button type="submit" className="min-h-11 underline">
                Sign out
              </button>
            </form>
          </div>
        ) : null}
      </header>
      <main className="mx-auto max-w-5xl p-4 sm:p-6">{children}</main>
    </div>
  );
}
