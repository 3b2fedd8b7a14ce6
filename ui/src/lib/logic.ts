// Presentation logic that lives in the UI (formatting only). Business rules, sort orders and the
// record's wording do not live here: completion, item states, stock warnings, the order of the
// Today list and how an item reads on the record all come from the Rust side.
import type { Lang } from './i18n';
import { translate, pick } from './i18n';
import type { MissingView } from './generated/MissingView';
import { missingLabel } from './labels';
import type { FigureKind } from './generated/FigureKind';
import type { SyncProgress } from './generated/SyncProgress';

/** A count with thousands separators: 10000 → "10,000" (the same in both languages). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** fen → "1,234.50" */
export function formatMoney(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const yuan = formatCount(Math.floor(abs / 100));
  return `${sign}${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

export function yuan(lang: Lang, cents: number): string {
  return translate(lang, 'common.yuan', { amount: formatMoney(cents) });
}

/** The sync bar's "n of N" of a long sync. */
export function syncProgressText(lang: Lang, p: SyncProgress): string {
  return translate(lang, 'sync.progress', { n: formatCount(p.done), total: formatCount(p.total) });
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

// stats: how the Statistics and Scorecard screens show what Rust computed.
/** A month as `YYYY-MM`. */
export function formatMonth(m: { year: number; month: number }): string {
  return `${m.year}-${pad(m.month)}`;
}

/** A month as the `<select>` value and back. */
export const monthKey = formatMonth;

/** A figure's value as its kind reads (`null` is no data, shown as `—`). */
export function figureText(
  lang: Lang,
  kind: FigureKind,
  value: number | null,
): string {
  if (value === null) return '—';
  switch (kind) {
    case 'rate':
      return `${(value * 100).toFixed(1)}%`;
    case 'count':
      return String(Math.round(value));
    case 'money':
      return yuan(lang, Math.round(value));
    case 'stars':
      return value.toFixed(2);
    case 'minutes':
      return value.toFixed(0);
  }
}

/** A month-on-month change, signed (`+1.5 pp` for rates is shown as `+1.5%`). */
export function changeText(
  lang: Lang,
  kind: FigureKind,
  change: number | null,
): string {
  if (change === null) return '—';
  const text = figureText(lang, kind, Math.abs(change));
  return change > 0 ? `+${text}` : change < 0 ? `−${text}` : text;
}
