import { parseConnectorInput } from '../../connectors/add-connector';
import { isAppError } from '../../errors';
import type { TTenant } from '../../tenants/tenants';

const FIELDS = ['domain', 'host', 'tls', 'tlsName', 'internal'] as const;
type TFormLike = { get(name: string): string | null };

// The connector form's fields as `sealpost connector add` takes them (an empty field: not given).
export function connectorInputFromForm(form: TFormLike) {
  const value = (name: string) => (form.get(name) ?? '').trim();
  return {
    domain: value('domain'),
    tls: value('tls'),
    host: value('host') || undefined,
    tlsName: value('tlsName') || undefined,
    internal: value('internal') === 'on',
  };
}

// Why the typed values cannot make a connector (addConnector's own reason), or null.
export function connectorFormProblem(values: Record<string, string>, tenant: Pick<TTenant, 'mail_domain'>): string | null {
  try {
    parseConnectorInput({ tenant, input: connectorInputFromForm({ get: (name) => values[name] ?? null }) });
    return null;
  } catch (error) {
    if (isAppError(error)) return error.message;
    throw error;
  }
}

// The connectors page with what was typed, after a refused add (no JavaScript needed).
export function refusedConnectorFormUrl(form: TFormLike, code: string): string {
  const query = new URLSearchParams({ typed: '1', error: code });
  for (const name of FIELDS) {
    const v = form.get(name);
    if (v) query.set(name, v.slice(0, 300));
  }
  return `/admin/connectors?${query.toString()}`;
}
