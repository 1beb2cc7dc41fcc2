import 'server-only';

// What the last form did, or why it was refused, from the page's query string (?done=… / ?error=…).
const ERRORS: Record<string, string> = {
  BAD_REQUEST: 'Check the form: something in it is not valid.',
  CONFLICT: 'That cannot be done: the tenant must keep at least one owner, and an address can be an admin once.',
  NOT_FOUND: 'Not found: it may have been changed by someone else.',
};

// errors: a page's own words for its refusals, before the shared ones.
export type NoticeProps = { done?: string; error?: string; errors?: Record<string, string> };

export function Notice({ done, error, errors = {} }: NoticeProps) {
  if (error)
    return (
      <p role="alert" className="mt-4 rounded-md border border-red-800 p-3 text-red-800">
        {errors[error] ?? ERRORS[error] ?? 'That did not work. Try again.'}
      </p>
    );
  if (done)
    return (
      <p role="status" className="mt-4 rounded-md border border-green-800 p-3 text-green-900">
        {done === 'rotated' ? 'A new key version is current.' : 'Done.'}
      </p>
    );
  return null;
}
