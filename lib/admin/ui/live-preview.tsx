'use client';

import { useEffect } from 'react';

export type LivePreviewProps = { formId: string; frames: Array<{ id: string; path: string }> };

// With JavaScript on, the previews follow the form as the admin types (a quarter of a second after
// the last key); without it, the form's Preview button does the same by reloading the page.
export function LivePreview({ formId, frames }: LivePreviewProps) {
  useEffect(() => {
    const form = document.getElementById(formId) as HTMLFormElement | null;
    if (!form) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const query = new URLSearchParams();
        for (const [name, value] of new FormData(form)) if (typeof value === 'string') query.append(name, value);
        for (const f of frames) {
          const frame = document.getElementById(f.id) as HTMLIFrameElement | null;
          if (frame) frame.src = `${f.path}?${query.toString()}`;
        }
      }, 250);
    };
    form.addEventListener('input', update);
    form.addEventListener('change', update);
    return () => {
      clearTimeout(timer);
      form.removeEventListener('input', update);
      form.removeEventListener('change', update);
    };
  }, [formId, frames]);
  return null;
}
