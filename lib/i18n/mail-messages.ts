import type { TLanguage } from '../templates/schema';

// Mail speaks the tenant's language (the portal speaks the reader's). Add a language by adding
// a catalogue here and its code to LANGUAGES in lib/templates/schema.ts.
export type TMailCatalogue = {
  subjectHidden: (sender: string) => string;
  introduction: (sender: string) => string;
  readButton: string;
  expires: (date: string) => string;
  attachmentHint: string;
  // A Do Not Forward message: what the wrapper says of it.
  doNotForward: string;
  linkHint: string;
  privacy: string;
  poweredBy: string;
  htmlTitle: string;
  htmlInstructions: string;
  htmlNoScript: string;
  passcodeSubject: (code: string, reference: string) => string;
  passcodeIntro: string;
  passcodeReference: (reference: string) => string;
  passcodeValidity: string;
  passcodeIgnore: string;
  // A reader's reply or forward, written as the tenant: the From display name.
  via: (author: string, tenant: string) => string;
  // Such a wrapper without Reply-To the reader (the template's replyToReader off).
  answerInPortal: string;
  bounceSubject: (address: string) => string;
  bounceIntro: (address: string, date: string) => string;
  bounceReason: string;
  bounceAdvice: string;
};

const en: TMailCatalogue = {
  subjectHidden: (sender) => `Encrypted message from ${sender}`,
  introduction: (sender) => `${sender} has sent you an encrypted message.`,
  readButton: 'Read the message',
  expires: (date) => `This message expires on ${date}.`,
  attachmentHint: 'You can also open the attached message.html and select "Read the message".',
  doNotForward: 'Do Not Forward: this message cannot be forwarded or printed, and replies go only to the sender and its recipients.',
  linkHint: 'If the button does not work, copy this address into your browser:',
  privacy: 'Privacy statement',
  poweredBy: 'Protected by Sealpost',
  htmlTitle: 'Encrypted message',
  htmlInstructions: 'Select "Read the message". You will confirm who you are, then read the message in your browser.',
  htmlNoScript: 'This page needs no scripts and no software.',
  passcodeSubject: (code, reference) => `Your passcode is ${code} (reference ${reference})`,
  passcodeIntro: 'Use this one-time passcode to read your encrypted message:',
  passcodeReference: (reference) => `Reference: ${reference}. The page where you asked for the code shows the same reference.`,
  passcodeValidity: 'The passcode works once, in the browser where you asked for it, for 10 minutes.',
  passcodeIgnore: 'If you did not ask for a passcode, you can ignore this email.',
  via: (author, tenant) => `${author} via ${tenant}`,
  answerInPortal: 'To answer, open the message and choose Reply: your answer stays encrypted.',
  bounceSubject: (address) => `Your encrypted message to ${address} could not be delivered`,
  bounceIntro: (address, date) => `Your encrypted message to ${address}, sent on ${date}, could not be delivered.`,
  bounceReason: 'The receiving mail server answered:',
  bounceAdvice: 'Check the address and send the message again. Any other recipients are not affected.',
};

const zhHant: TMailCatalogue = {
  subjectHidden: (sender) => `來自 ${sender} 的加密郵件`,
  introduction: (sender) => `${sender} 寄給您一封加密郵件。`,
  readButton: '閱讀郵件',
  expires: (date) => `此郵件將於 ${date} 到期。`,
  attachmentHint: '您也可以開啟附件 message.html，然後選擇「閱讀郵件」。',
  doNotForward: '禁止轉寄：此郵件無法轉寄或列印，回覆只會寄給寄件者及其收件者。',
  linkHint: '如果按鈕無法使用，請將此網址複製到瀏覽器：',
  privacy: '隱私權聲明',
  poweredBy: '由 Sealpost 保護',
  htmlTitle: '加密郵件',
  htmlInstructions: '請選擇「閱讀郵件」。確認您的身分後，即可在瀏覽器中閱讀郵件。',
  htmlNoScript: '此頁面不需要任何指令碼或軟體。',
  // CJK typesetting without spaces around the code: a spaced subject whose only Latin letters are
  // the reference reads as ALL CAPS to filters (SpamAssassin's SUBJ_ALL_CAPS).
  passcodeSubject: (code, reference) => `您的一次性密碼是${code}（參考碼${reference}）`,
  passcodeIntro: '請使用此一次性密碼閱讀您的加密郵件：',
  passcodeReference: (reference) => `參考碼：${reference}。您要求密碼的頁面會顯示相同的參考碼。`,
  passcodeValidity: '此密碼僅能在您提出要求的瀏覽器中使用一次，有效時間為 10 分鐘。',
  passcodeIgnore: '如果您沒有要求密碼，請忽略此郵件。',
  via: (author, tenant) => `${author} 經由 ${tenant}`,
  answerInPortal: '如需回覆，請開啟郵件並選擇「回覆」，您的回覆會保持加密。',
  bounceSubject: (address) => `您寄給 ${address} 的加密郵件無法送達`,
  bounceIntro: (address, date) => `您於 ${date} 寄給 ${address} 的加密郵件無法送達。`,
  bounceReason: '收件郵件伺服器的回覆：',
  bounceAdvice: '請檢查地址後再寄一次。其他收件者不受影響。',
};

const zhHans: TMailCatalogue = {
  subjectHidden: (sender) => `来自 ${sender} 的加密邮件`,
  introduction: (sender) => `${sender} 给您发送了一封加密邮件。`,
  readButton: '阅读邮件',
  expires: (date) => `此邮件将于 ${date} 过期。`,
  attachmentHint: '您也可以打开附件 message.html，然后选择“阅读邮件”。',
  doNotForward: '禁止转发：此邮件无法转发或打印，回复只会发送给发件人及其收件人。',
  linkHint: '如果按钮无法使用，请将此地址复制到浏览器：',
  privacy: '隐私声明',
  poweredBy: '由 Sealpost 保护',
  htmlTitle: '加密邮件',
  htmlInstructions: '请选择“阅读邮件”。确认您的身份后，即可在浏览器中阅读邮件。',
  htmlNoScript: '此页面不需要任何脚本或软件。',
  passcodeSubject: (code, reference) => `您的一次性密码是${code}（参考码${reference}）`,
  passcodeIntro: '请使用此一次性密码阅读您的加密邮件：',
  passcodeReference: (reference) => `参考码：${reference}。您请求密码的页面会显示相同的参考码。`,
  passcodeValidity: '此密码只能在您提出请求的浏览器中使用一次，有效期为 10 分钟。',
  passcodeIgnore: '如果您没有请求密码，请忽略此邮件。',
  via: (author, tenant) => `${author} 通过 ${tenant}`,
  answerInPortal: '如需回复，请打开邮件并选择“回复”，您的回复会保持加密。',
  bounceSubject: (address) => `您发送给 ${address} 的加密邮件无法送达`,
  bounceIntro: (address, date) => `您于 ${date} 发送给 ${address} 的加密邮件无法送达。`,
  bounceReason: '收件邮件服务器的回复：',
  bounceAdvice: '请检查地址后重新发送。其他收件人不受影响。',
};

const CATALOGUES: Record<TLanguage, TMailCatalogue> = { en, 'zh-Hant': zhHant, 'zh-Hans': zhHans };

export const mailMessages = (language: TLanguage): TMailCatalogue => CATALOGUES[language];

export const formatMailDate = (ms: number, language: TLanguage): string =>
  `${new Intl.DateTimeFormat(language, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(ms)} UTC`;
