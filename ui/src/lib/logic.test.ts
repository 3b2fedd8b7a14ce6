import { describe, expect, it } from 'vitest';
import { en, zhCN } from './messages';
import { detectLang, errorText, translate, normaliseLang, pick } from './i18n';
import { bytesToBase64, dataUrlPayload, formatCount, formatDate, formatMoney, missingText, parseReading, syncProgressText, windowText, yuan } from './logic';
import { toBackendError, BackendError } from './backend';
import type { MissingView } from './generated/MissingView';

describe('messages', () => {
  it('every English key has a Chinese translation and vice versa', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
  });
  it('translations keep the same placeholders', () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(zhCN[k]), `placeholders of ${k}`).toEqual(ph(en[k]));
    }
  });
  it('no Chinese string is left in English (except numbers and symbols)', () => {
    const same = (Object.keys(en) as (keyof typeof en)[]).filter((k) => en[k] === zhCN[k] && /[a-z]{3}/i.test(en[k].replace(/\{\w+\}/g, '')));
    expect(same).toEqual([]);
  });
});

describe('i18n', () => {
  it('defaults to Chinese for any zh locale and English otherwise', () => {
    expect(detectLang(['zh-TW', 'en'])).toBe('zh-CN');
    expect(detectLang(['en-GB'])).toBe('en');
    expect(detectLang(['fr-FR', 'zh-CN'])).toBe('zh-CN');
    expect(detectLang([])).toBe('en');
    expect(normaliseLang('zh-CN')).toBe('zh-CN');
    expect(normaliseLang(null)).toBeNull();
  });
  it('fills placeholders', () => {
    expect(translate('en', 'sync.pending', { n: 3 })).toBe('3 pending');
    expect(translate('zh-CN', 'sync.pending', { n: 3 })).toBe('3 条待同步');
  });
  it('shows a long sync as n of N with thousands separators', () => {
    const p = { done: 1200, total: 10000 };
    expect(syncProgressText('en', p)).toBe('Syncing 1,200 of 10,000');
    expect(syncProgressText('zh-CN', p)).toBe('正在同步 1,200 / 10,000');
    expect(formatCount(999)).toBe('999');
  });
  it('translates error codes, including the one for codes from a newer relay', () => {
    expect(errorText('en', 'progress.invalid_transition')).toContain('en route');
    expect(errorText('zh-CN', 'checklist.reason_required')).toBe('“不适用”需要填写原因。');
    expect(errorText('en', 'unknown')).toContain('Something went wrong');
  });
  it('picks a bilingual label', () => {
    expect(pick('zh-CN', '维修', 'Repair')).toBe('维修');
    expect(pick('en', '维修', 'Repair')).toBe('Repair');
    expect(pick('en', '维修', null)).toBe('维修');
  });
});

describe('logic', () => {
  it('shows the date of a window only when it is not on the current day', () => {
    const at = (d: number, h: number, m = 0) => new Date(2026, 10, d, h, m).getTime();
    expect(windowText(at(30, 9), at(30, 11), at(30, 8, 15))).toBe('09:00–11:00');
    expect(windowText(at(28, 13), at(28, 15), at(30, 8))).toBe('2026-11-28 13:00–15:00');
    expect(windowText(at(30, 23), at(30, 23, 59), at(30, 0))).toBe('23:00–23:59');
  });
  it('formats fen as yuan', () => {
    expect(formatMoney(0)).toBe('0.00');
    expect(formatMoney(3000)).toBe('30.00');
    expect(formatMoney(123456)).toBe('1,234.56');
    expect(formatMoney(-5)).toBe('-0.05');
  });
  it('formats yuan in the current language and local dates', () => {
    expect(yuan('en', 8000)).toContain('80.00');
    expect(yuan('zh-CN', 8000)).toContain('80.00');
    expect(formatDate(new Date(2026, 0, 5, 23, 59).getTime())).toBe('2026-01-05');
  });
  it('keeps no copy of the domain rules: sorting, stock and record wording come from Rust', async () => {
    const logic = await import('./logic');
    for (const gone of ['bySchedule', 'stockAfter', 'recordItemText']) {
      expect(Object.keys(logic), `${gone} is decided in Rust`).not.toContain(gone);
    }
  });
  it('parses readings with a dot or comma and refuses text', () => {
    expect(parseReading('220')).toBe(220);
    expect(parseReading(' 0,8 ')).toBe(0.8);
    expect(parseReading('-1.5')).toBe(-1.5);
    expect(parseReading('')).toBeNull();
    expect(parseReading('abc')).toBeNull();
    expect(parseReading('1e5')).toBeNull();
  });
  it('describes missing entries with the item label in the current language', () => {
    const m: MissingView = { code: 'photo_missing', template_id: 'repair', item_id: 'repair.fault_photo', label_zh_cn: '拍摄故障部位', label_en: 'Photo of the faulty part' };
    expect(missingText('en', m)).toBe('Add a photo: Photo of the faulty part');
    expect(missingText('zh-CN', m)).toBe('添加照片：拍摄故障部位');
    expect(missingText('en', { code: 'rating_missing', template_id: null, item_id: null, label_zh_cn: null, label_en: null })).toBe('Customer rating');
  });
  it('encodes bytes as base64 and reads data URLs', () => {
    expect(bytesToBase64(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBe('iVBORw==');
    expect(dataUrlPayload('data:image/png;base64,AAAA')).toBe('AAAA');
  });
});

describe('backend errors', () => {
  it('keeps the code and missing list of a command error', () => {
    const e = toBackendError({ code: 'completion.incomplete', message: 'x', missing: [{ code: 'rating_missing' }] });
    expect(e).toBeInstanceOf(BackendError);
    expect(e.code).toBe('completion.incomplete');
    expect(e.missing).toHaveLength(1);
  });
  it('reads a code this build does not know as unknown', () => {
    expect(toBackendError({ code: 'made.up', message: 'x', missing: [] }).code).toBe('unknown');
  });
  it('turns anything else into app.internal', () => {
    expect(toBackendError('boom').code).toBe('app.internal');
    expect(toBackendError(new Error('x')).code).toBe('app.internal');
  });
});
