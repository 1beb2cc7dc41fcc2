import { AccessPage } from '@/lib/portal/ui/access-page';

// 404 – rendered on the server, so it reads without JavaScript (Next.js's built-in one is drawn
// in the browser, and the recipient's pages send no scripts: lib/http/script-free-pages.ts)
export default function NotFound() {
  return <AccessPage kind="notFound" />;
}
