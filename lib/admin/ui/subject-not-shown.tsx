import 'server-only';

// In place of a subject the console does not have: the template hides it, or the message was
// revoked or expired (the subject is shredded with the message's key).
export function SubjectNotShown() {
  return <span className="text-gray-700 italic">not shown</span>;
}
