import { describe, expect, it } from 'vitest';
import { negotiateLocale } from '@/lib/i18n/portal-i18n';
import en from '../messages/en.json';
import zhHans from '../messages/zh-Hans.json';
import zhHant from '../messages/zh-Hant.json';

describe('portal language', () => {
  it.each([
    ['zh-TW,zh;q=0.9,en;q=0.8', 'zh-Hant'],
    ['zh-HK', 'zh-Hant'],
    ['zh-Hant', 'zh-Hant'],
    ['zh-CN,zh;q=0.9', 'zh-Hans'],
    ['zh', 'zh-Hans'],
    ['zh-SG', 'zh-Hans'],
    ['en-GB,en;q=0.9', 'en'],
    ['fr-FR,de;q=0.8', 'en'],
    ['de;q=0.9,zh-TW;q=0.8', 'zh-Hant'],
    ['', 'en'],
    ['*', 'en'],
    ['x'.repeat(5000), 'en'],
    ['zh-TW;q=garbage,,,;;', 'en'],
  ])('Accept-Language %j picks %s', (header, expected) => {
    expect(negotiateLocale(header)).toBe(expected);
  });

  it('has every English message in both Chinese catalogues', () => {
    for (const catalogue of [zhHant, zhHans]) {
      for (const ns of Object.keys(en) as (keyof typeof en)[])
        expect(Object.keys(catalogue[ns]).sort()).toEqual(Object.keys(en[ns]).sort());
    }
  });
});
