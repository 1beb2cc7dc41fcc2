import 'server-only';
// A form's refusal, announced to screen readers as it appears.
export function ErrorAlert({ text }: { text: string | null }) {
  return text ? (
    <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 p-3 text-red-900">
      {text}
    </p>
  ) : null;
}
