import 'server-only';

export type TRestrictionOverlay = {
  // "reader@example.org · 2026-12-03 14:30 UTC": who is reading, and when.
  watermark: string;
  // Shown instead of the message when it is printed.
  printNotice: string;
};

// Rows of the watermark, each repeating it, every other one offset: enough to cover a tall frame
// on a wide screen, with whole addresses in view on a narrow one.
const ROWS = Array.from({ length: 36 }, (_, i) => `row-${i}`);
const TILES = Array.from({ length: 6 }, (_, i) => `tile-${i}`);

// The watermark over a Do Not Forward message's body and its print notice, as markup: rendered by
// React (every character of the reader's address and the notice is escaped text, never markup
// or CSS), positioned by the fixed stylesheet below, and drawn without any script.
export async function renderRestrictionOverlay({ watermark, printNotice }: TRestrictionOverlay): Promise<string> {
  const { renderToStaticMarkup } = await import('react-dom/server');
  return renderToStaticMarkup(
    <>
      <div className="sp-watermark" aria-hidden="true" data-watermark={watermark}>
        {ROWS.map((row) => (
          <div key={row}>
            {TILES.map((tile) => (
              <span key={tile}>{watermark}</span>
            ))}
          </div>
        ))}
      </div>
      <p className="sp-print-notice">{printNotice}</p>
    </>,
  );
}

// Over everything the sanitised body can draw (fixed, topmost, not clickable), faint enough to read
// through; in print only the notice remains.
export const RESTRICTION_CSS = [
  '.sp-watermark{position:fixed;top:-50%;left:-50%;width:200%;height:200%;z-index:2147483647;pointer-events:none;user-select:none;overflow:hidden;transform:rotate(-24deg);color:rgba(75,85,99,.24);font:600 13px/1 system-ui,sans-serif;white-space:nowrap}',
  '.sp-watermark>div{margin:0 0 56px}',
  '.sp-watermark>div:nth-child(even){margin-left:-140px}',
  '.sp-watermark span{margin-right:56px}',
  '.sp-print-notice{display:none}',
  '@media print{body>*{display:none!important}body>.sp-print-notice{display:block!important;font:16px/1.5 system-ui,sans-serif;padding:24px}}',
].join('');
