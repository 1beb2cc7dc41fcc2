import { match } from '@formatjs/intl-localematcher';
import Negotiator from 'negotiator';
import { headers } from 'next/headers';
import { createTranslator } from 'use-intl/core';
import en from '../../messages/en.json';
import zhHans from '../../messages/zh-Hans.json';
import zhHant from '../../messages/zh-Hant.json';

// The portal speaks the reader's language, from the browser's Accept-Language. Add a language
// by adding messages/<locale>.json and its code here.
export const PORTAL_LOCALES = ['en', 'zh-Hant', 'zh-Hans'] as const;
export type TPortalLocale = (typeof PORTAL_LOCALES)[number];
const CATALOGUES: Record<TPortalLocale, typeof en> = { en, 'zh-Hant': zhHant, 'zh-Hans': zhHans };

// zh-TW / zh-HK pick Traditional, zh-CN / zh-SG / zh Simplified (CLDR likely subtags), else English.
export function negotiateLocale(acceptLanguage: string | null): TPortalLocale {
  const requested = new Negotiator({ headers: { 'accept-language': acceptLanguage ?? '' } }).languages().filter((l) => l !== '*');
  try {
    return match(requested, [...PORTAL_LOCALES], 'en') as TPortalLocale;
  } catch {
    return 'en';
  }
}

// For pages: the language of the request being rendered.
export async function getPortalText() {
  return portalText(negotiateLocale((await headers()).get('accept-language')));
}

export function portalText(locale: TPortalLocale) {
  const messages = CATALOGUES[locale];
  const t = createTranslator({ locale, messages, namespace: 'portal' });
  const errors = createTranslator({ locale, messages, namespace: 'errors' });
  const errorText = (code: string | undefined) =>
    code ? (code in messages.errors ? errors(code as keyof typeof messages.errors) : errors('other')) : null;
  return { locale, t, errorText };
}

// The portal's translator, as pages rendered from plain data take it.
export type TPortalT = ReturnType<typeof portalText>['t'];
