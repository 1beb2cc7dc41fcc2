import { AccessPage } from '@/lib/portal/ui/access-page';

// 401 – no session for what was asked
export default function Unauthorized() {
  return <AccessPage kind="unauthorized" />;
}
