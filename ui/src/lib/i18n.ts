// Pure translation helpers (no Svelte state here, so they are unit-testable).
import { en, zhCN, type MessageKey } from './messages';
import { errorsEn, errorsZhCN } from './errors';
import type { Code } from './generated/Code';

export type Lang = 'en' | 'zh-CN';

/** The default language from the OS / browser language list. */
export function detectLang(languages: readonly string[]): Lang {
  for (const l of languages) {
    const low = l.toLowerCase();
    if (low.startsWith('zh')) return 'zh-CN';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

export function normaliseLang(l: string | null | undefined): Lang | null {
  if (!l) return null;
  return l.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** Translate `key` in `lang`, filling `{name}` placeholders from `vars`. */
export function translate(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}): string {
  const table = lang === 'zh-CN' ? zhCN : en;
  const text: string = table[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/** The translated message for an error code (every `Code` has one in both languages). */
export function errorText(lang: Lang, code: Code): string {
  return (lang === 'zh-CN' ? errorsZhCN : errorsEn)[code];
}

/** A label in the current language from a `{ zh_cn, en }` pair. */
export function pick(lang: Lang, zh: string | null | undefined, english: string | null | undefined): string {
  return (lang === 'zh-CN' ? zh : english) ?? english ?? zh ?? '';
}
