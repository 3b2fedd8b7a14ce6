// Presentation logic that lives in the UI (formatting only). Business rules, sort orders and the
// record's wording do not live here: completion, item states, stock warnings, the order of the
// Today list and how an item reads on the record all come from the Rust side.
import type { Lang } from './i18n';
import { translate, pick } from './i18n';
import type { MissingView } from './generated/MissingView';
import { missingLabel } from './labels';

/** fen → "1,234.50" */
export function formatMoney(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const yuan = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

export function yuan(lang: Lang, cents: number): string {
  return translate(lang, 'common.yuan', { amount: formatMoney(cents) });
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local HH:MM of a timestamp. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Local YYYY-MM-DD of a timestamp. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function formatDateTime(ms: number): string {
  return `${formatDate(ms)} ${formatTime(ms)}`;
}

/**
 * A schedule window as the Today list shows it: times only when it is on the day of `nowMs`,
 * with the date when it is not (orders carried over from earlier days, or later ones).
 */
export function windowText(startMs: number, endMs: number, nowMs: number): string {
  const times = `${formatTime(startMs)}–${formatTime(endMs)}`;
  return formatDate(startMs) === formatDate(nowMs) ? times : `${formatDate(startMs)} ${times}`;
}

/** One translated line for a missing entry from the domain's completion list. */
export function missingText(lang: Lang, m: MissingView): string {
  const label = pick(lang, m.label_zh_cn, m.label_en) || m.item_id || '';
  return translate(lang, missingLabel[m.code], { label });
}

/** Parse a reading typed by a technician: accepts "1.5" and "1,5"; null when not a number. */
export function parseReading(text: string): number | null {
  const t = text.trim().replace(',', '.');
  if (t === '' || !/^-?\d+(\.\d+)?$/.test(t)) return null;
  return Number(t);
}

/** Base64 of bytes (for photos and signatures crossing to Rust). */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    bin += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(bin);
}

/** The base64 payload of a `data:` URL. */
export function dataUrlPayload(url: string): string {
  const i = url.indexOf(',');
  return i < 0 ? '' : url.slice(i + 1);
}
