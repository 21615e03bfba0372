// Which guide a visitor of a pickup page gets, from the User-Agent (a switch on the page corrects a
// wrong guess): iOS, Android, or a desktop (which gets a QR code to continue on the phone). iOS
// installs configuration profiles reliably only from Safari, so the in-app browsers of mail and
// social apps, and other browsers, are told to open the page in Safari.
export type PickupPlatform = 'ios' | 'android' | 'desktop';

export interface DetectedPlatform {
  os: PickupPlatform;
  /** iOS, but not Safari itself: an app's web view or another browser. */
  notSafari: boolean;
}

/** iPadOS 13+ says "Macintosh"; it still says "Mobile/" where a Mac does not. */
const IOS = /\b(iPhone|iPad|iPod)\b|\bMacintosh\b.*\bMobile\//;
const ANDROID = /\bAndroid\b/;
/** Other iOS browsers and in-app browsers (Google, Gmail, Facebook, Instagram, LINE, WeChat, Outlook…). */
const IOS_NOT_SAFARI = /\b(CriOS|FxiOS|EdgiOS|OPiOS|GSA|FBAN|FBAV|Instagram|Line|MicroMessenger|Outlook|YaBrowser)\//i;

export function detectPlatform(userAgent: string | undefined, override?: string): DetectedPlatform {
  const ua = userAgent ?? '';
  const ios = IOS.test(ua);
  const detected: PickupPlatform = ios ? 'ios' : ANDROID.test(ua) ? 'android' : 'desktop';
  const os = override === 'ios' || override === 'android' ? override : detected;
  // A web view (WKWebView) leaves "Safari/" out of its User-Agent; Safari and SFSafariViewController keep it.
  const notSafari = ios && (!/\bSafari\//.test(ua) || IOS_NOT_SAFARI.test(ua));
  return { os, notSafari };
}
