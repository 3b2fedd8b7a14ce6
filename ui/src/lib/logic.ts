// Presentation logic that lives in the UI (formatting and warnings). Business rules do not live
// here: completion, transitions and answer validation come from the Rust side.
import type { Lang } from './i18n';
import { translate, pick } from './i18n';
import type { ConfirmationState } from './generated/ConfirmationState';
import type { ItemView } from './generated/ItemView';
import type { MissingView } from './generated/MissingView';
import type { OrderCard } from './generated/OrderCard';
import type { StockPart } from './generated/StockPart';
import type { StockSourceView } from './generated/StockSourceView';
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

/** Orders by schedule start; unscheduled last, then by order number. */
export function bySchedule(orders: readonly OrderCard[]): OrderCard[] {
  return [...orders].sort((a, b) => {
    const sa = a.window_start_ms ?? Number.MAX_SAFE_INTEGER;
    const sb = b.window_start_ms ?? Number.MAX_SAFE_INTEGER;
    return sa - sb || a.order_no.localeCompare(b.order_no);
  });
}

/**
 * Stock left after taking `qty` from personal stock, and whether that goes below zero. Parts from
 * the warehouse never touch personal stock.
 */
export function stockAfter(part: StockPart | undefined, qty: number, source: StockSourceView): { left: number; negative: boolean } {
  if (!part || source !== 'personal') return { left: part?.on_hand ?? 0, negative: false };
  const left = part.on_hand - qty;
  return { left, negative: left < 0 };
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

/**
 * How a checklist item reads on the signed record: the technician's answer, or for items the
 * customer satisfies, their confirmation or signature (these have no technician answer).
 */
export function recordItemText(
  lang: Lang,
  item: ItemView,
  confirmations: ConfirmationState[],
  signed: boolean,
): string {
  const k = item.kind;
  if (k.type === 'customer_confirm') {
    const given = confirmations.some((c) => c.confirmation === k.confirmation && c.value);
    return given ? translate(lang, 'done.item_confirmed') : '—';
  }
  if (k.type === 'signed_record') return signed ? translate(lang, 'done.item_signed') : '—';
  const o = item.answer?.outcome;
  if (!o) return '—';
  switch (o.type) {
    case 'reading': return `${o.value} ${o.unit}`;
    case 'not_applicable': return `${translate(lang, 'checklist.na')} (${o.reason})`;
    case 'pass': return translate(lang, 'checklist.pass');
    case 'fail': return translate(lang, 'checklist.fail');
    case 'done': return translate(lang, 'checklist.done');
  }
}
