import { isAppError } from '../../errors';
import { parseInboundRouteInput } from '../../relay/inbound-route';

const FIELDS = ['deliverTo', 'inboundTls', 'inboundTlsName', 'decrypt'] as const;
type TFormLike = { get(name: string): string | null };

// The inbound route form's fields as `sealpost relay inbound set` takes them (an empty field: not given).
export function inboundRouteInputFromForm(form: TFormLike) {
  const value = (name: string) => (form.get(name) ?? '').trim();
  return {
    deliverTo: value('deliverTo'),
    tls: value('inboundTls'),
    tlsName: value('inboundTlsName') || undefined,
    decrypt: value('decrypt') === 'on',
  };
}

// Why the typed values cannot make a route (setInboundRoute's own reason), or null.
export function inboundRouteFormProblem(values: Record<string, string>): string | null {
  try {
    parseInboundRouteInput(inboundRouteInputFromForm({ get: (name) => values[name] ?? null }));
    return null;
  } catch (error) {
    if (isAppError(error)) return error.message;
    throw error;
  }
}

// The connectors page with what was typed, after a refused route (no JavaScript needed).
export function refusedInboundRouteFormUrl(form: TFormLike): string {
  const query = new URLSearchParams({ inboundTyped: '1' });
  for (const name of FIELDS) {
    const v = form.get(name);
    if (v) query.set(name, v.slice(0, 300));
  }
  return `/admin/connectors?${query.toString()}`;
}
