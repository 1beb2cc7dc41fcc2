import { AccessPage } from '@/lib/portal/ui/access-page';

// 403 – signed in, but not for this
export default function Forbidden() {
  return <AccessPage kind="forbidden" />;
}
