import crypto from 'node:crypto';
import sanitizeHtml from 'sanitize-html';

// What a message body may keep: text formatting, tables, links and images. No scripts, styles
// sheets, forms, frames, SVG or MathML; attributes and CSS properties from short allowlists.
export const ALLOWED_TAGS = [
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'caption',
  'center',
  'code',
  'col',
  'colgroup',
  'dd',
  'div',
  'dl',
  'dt',
  'em',
  'font',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'li',
  'ol',
  'p',
  'pre',
  's',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'u',
  'ul',
];
const CELL = ['align', 'valign', 'colspan', 'rowspan', 'width', 'height', 'bgcolor'];
export const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  '*': ['style', 'dir', 'lang', 'title'],
  a: ['href', 'target', 'rel', 'title'],
  img: ['src', 'alt', 'width', 'height', 'data-sealpost-blocked'],
  font: ['color', 'size', 'face'],
  table: ['align', 'border', 'cellpadding', 'cellspacing', 'width', 'bgcolor'],
  td: CELL,
  th: CELL,
  tr: ['align', 'valign', 'bgcolor'],
  col: ['span', 'width'],
  colgroup: ['span', 'width'],
  div: ['align'],
  p: ['align'],
};
// CSS values may not load anything (url(), image-set, expression, @import): only plain values.
const SAFE_CSS_VALUE = /^(?!.*(url|image|expression|import|javascript|\\|@|\/\*))[-#%,.\w\s()'"]+$/i;
const STYLE_PROPERTIES = [
  'color',
  'background-color',
  'font-family',
  'font-size',
  'font-style',
  'font-weight',
  'text-align',
  'text-decoration',
  'line-height',
  'margin',
  'margin-top',
  'margin-bottom',
  'margin-left',
  'margin-right',
  'padding',
  'padding-top',
  'padding-bottom',
  'padding-left',
  'padding-right',
  'border',
  'border-top',
  'border-bottom',
  'border-left',
  'border-right',
  'border-collapse',
  'border-color',
  'border-width',
  'border-style',
  'width',
  'max-width',
  'height',
  'vertical-align',
  'white-space',
  'display',
];
const ALLOWED_STYLES = { '*': Object.fromEntries(STYLE_PROPERTIES.map((p) => [p, [SAFE_CSS_VALUE]])) };
const INLINE_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$/i;

// Bump when sanitiseMessageHtml's transforms change: views rendered before are rendered again.
const SANITISER_REVISION = 1;
// Which sanitiser rendered a stored reader's view: its revision and every allowlist it reads.
export const SANITISER_VERSION = crypto
  .createHash('sha256')
  .update(
    JSON.stringify({
      SANITISER_REVISION,
      ALLOWED_TAGS,
      ALLOWED_ATTRIBUTES,
      STYLE_PROPERTIES,
      css: SAFE_CSS_VALUE.source,
      image: INLINE_IMAGE.source,
    }),
  )
  .digest('base64url')
  .slice(0, 16);

export type SanitiseMessageHtmlOptions = {
  html: string;
  allowRemoteImages: boolean;
  // Where an inline `cid:` image that was not inlined can be fetched (same origin), or null.
  cidUrl: (cid: string) => string | null;
};

export type TSanitisedHtml = { html: string; hasRemoteImages: boolean };

export function sanitiseMessageHtml({ html, allowRemoteImages, cidUrl }: SanitiseMessageHtmlOptions): TSanitisedHtml {
  let hasRemoteImages = false;
  const clean = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    allowedStyles: ALLOWED_STYLES,
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data', 'cid'] },
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    // Dropped with their content: nothing of a script or style survives as text either.
    nonTextTags: [
      'script',
      'style',
      'textarea',
      'option',
      'noscript',
      'title',
      'head',
      'template',
      'xmp',
      'iframe',
      'noembed',
      'noframes',
      'svg',
      'math',
    ],
    transformTags: {
      // Links open in a new tab, never tell the target where they came from, and show where they go.
      a: (tagName, attribs) => {
        const linked: Record<string, string> = attribs.href
          ? { href: attribs.href, target: '_blank', rel: 'noopener noreferrer nofollow', title: attribs.href }
          : {};
        return { tagName, attribs: linked };
      },
      img: (tagName, attribs) => {
        const src = (attribs.src ?? '').trim();
        const rest: Record<string, string> = {
          alt: attribs.alt ?? '',
          ...(attribs.width ? { width: attribs.width } : {}),
          ...(attribs.height ? { height: attribs.height } : {}),
        };
        if (INLINE_IMAGE.test(src)) return { tagName, attribs: { ...rest, src } };
        if (/^cid:/i.test(src)) {
          const url = cidUrl(src.slice(4));
          return { tagName, attribs: url ? { ...rest, src: url } : rest };
        }
        if (/^https?:\/\//i.test(src)) {
          hasRemoteImages = true;
          // Blocked until the reader allows it: a remote image tells the sender the mail was read.
          return { tagName, attribs: allowRemoteImages ? { ...rest, src } : { ...rest, 'data-sealpost-blocked': '1' } };
        }
        return { tagName, attribs: rest };
      },
    },
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src && !frame.attribs['data-sealpost-blocked'],
  });
  return { html: clean, hasRemoteImages };
}
