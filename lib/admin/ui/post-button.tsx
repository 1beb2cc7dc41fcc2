import 'server-only';
import { ADMIN_BUTTON, ADMIN_DANGER_BUTTON } from './admin-shell';

export type PostButtonProps = {
  action: string;
  // Hidden fields: what the button acts on.
  fields: Record<string, string | number>;
  text: string;
  // The button's accessible name when its text alone does not say what it acts on.
  label?: string;
  isDanger?: boolean;
  className?: string;
};

// One button that posts a small form (remove, revoke, move): works without JavaScript.
export function PostButton({ action, fields, text, label, isDanger = false, className }: PostButtonProps) {
  return (
    <form method="post" action={action} className={className}>
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" className={isDanger ? ADMIN_DANGER_BUTTON : ADMIN_BUTTON} aria-label={label}>
        {text}
      </button>
    </form>
  );
}
