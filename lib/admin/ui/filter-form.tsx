import 'server-only';
import { ADMIN_BUTTON, ADMIN_INPUT } from './admin-shell';

export type TFilterField = { name: string; label: string; type: 'text' | 'email' | 'date' };

export type FilterFormProps = {
  action: string;
  label: string;
  fields: readonly TFilterField[];
  values: Record<string, string | undefined>;
  buttonText: string;
};

// A page's search: a GET form (bookmarkable, no JavaScript), one labelled field per filter.
export function FilterForm({ action, label, fields, values, buttonText }: FilterFormProps) {
  return (
    <form method="get" action={action} className="mt-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label={label}>
      {fields.map((f) => (
        <div key={f.name}>
          <label htmlFor={`filter-${f.name}`} className="font-medium">
            {f.label}
          </label>
          <input id={`filter-${f.name}`} name={f.name} type={f.type} defaultValue={values[f.name] ?? ''} className={ADMIN_INPUT} />
        </div>
      ))}
      <div className="self-end">
        <button type="submit" className={ADMIN_BUTTON}>
          {buttonText}
        </button>
      </div>
    </form>
  );
}
