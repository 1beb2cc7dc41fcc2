import type { TLanguage } from '../branding/schema';

// Mail speaks the tenant's language (the portal speaks the reader's). Add a language by adding
// a catalogue here and its code to LANGUAGES in lib/branding/schema.ts.
export type TMailCatalogue = {
  subjectHidden: (sender: string) => string;
  introduction: (sender: string) => string;
  readButton: string;
  expires: (date: string) => string;
  attachmentHint: string;
  linkHint: string;
  privacy: string;
  poweredBy: string;
  htmlTitle: string;
  htmlInstructions: string;
  htmlNoScript: string;
};

const en: TMailCatalogue = {
  subjectHidden: (sender) => `Encrypted message from ${sender}`,
  introduction: (sender) => `${sender} has sent you an encrypted message.`,
  readButton: 'Read the message',
  expires: (date) => `This message expires on ${date}.`,
  attachmentHint: 'You can also open the attached message.html and select "Read the message".',
  linkHint: 'If the button does not work, copy this address into your browser:',
  privacy: 'Privacy statement',
  poweredBy: 'Protected by Sealpost',
  htmlTitle: 'Encrypted message',
  htmlInstructions: 'Select "Read the message". You will confirm who you are, then read the message in your browser.',
  htmlNoScript: 'This page needs no scripts and no software.',
};

const zhHant: TMailCatalogue = {
  subjectHidden: (sender) => `來自 ${sender} 的加密郵件`,
  introduction: (sender) => `${sender} 寄給您一封加密郵件。`,
  readButton: '閱讀郵件',
  expires: (date) => `此郵件將於 ${date} 到期。`,
  attachmentHint: '您也可以開啟附件 message.html，然後選擇「閱讀郵件」。',
  linkHint: '如果按鈕無法使用，請將此網址複製到瀏覽器：',
  privacy: '隱私權聲明',
  poweredBy: '由 Sealpost 保護',
  htmlTitle: '加密郵件',
  htmlInstructions: '請選擇「閱讀郵件」。確認您的身分後，即可在瀏覽器中閱讀郵件。',
  htmlNoScript: '此頁面不需要任何指令碼或軟體。',
};

const zhHans: TMailCatalogue = {
  subjectHidden: (sender) => `来自 ${sender} 的加密邮件`,
  introduction: (sender) => `${sender} 给您发送了一封加密邮件。`,
  readButton: '阅读邮件',
  expires: (date) => `此邮件将于 ${date} 过期。`,
  attachmentHint: '您也可以打开附件 message.html，然后选择“阅读邮件”。',
  linkHint: '如果按钮无法使用，请将此地址复制到浏览器：',
  privacy: '隐私声明',
  poweredBy: '由 Sealpost 保护',
  htmlTitle: '加密邮件',
  htmlInstructions: '请选择“阅读邮件”。确认您的身份后，即可在浏览器中阅读邮件。',
  htmlNoScript: '此页面不需要任何脚本或软件。',
};

const CATALOGUES: Record<TLanguage, TMailCatalogue> = { en, 'zh-Hant': zhHant, 'zh-Hans': zhHans };

export const mailMessages = (language: TLanguage): TMailCatalogue => CATALOGUES[language];

export const formatMailDate = (ms: number, language: TLanguage): string =>
  `${new Intl.DateTimeFormat(language, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(ms)} UTC`;
