// The error-code contract, checked twice: the tables are typed `Record<Code, string>` (so
// `npm run check` fails on a missing or extra code), and this test compares both tables with the
// union in the generated `Code.ts` itself, so the guarantee does not rest on the type alone.
import { describe, expect, it } from 'vitest';
import { errorsEn, errorsZhCN, isCode } from './errors';
import generatedCodeTs from './generated/Code.ts?raw';

function generatedCodes(): string[] {
  const union = generatedCodeTs.slice(generatedCodeTs.indexOf('export type Code ='));
  return [...union.matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
}

describe('error messages', () => {
  it('cover exactly the codes Rust generates, in both languages', () => {
    const codes = generatedCodes();
    expect(codes.length, 'the generated union was found').toBeGreaterThan(50);
    expect(Object.keys(errorsEn).sort(), 'English table').toEqual(codes);
    expect(Object.keys(errorsZhCN).sort(), 'Chinese table').toEqual(codes);
  });
  it('are translated: no Chinese message is left in English', () => {
    const same = Object.keys(errorsEn).filter(isCode).filter((c) => errorsEn[c] === errorsZhCN[c]);
    expect(same).toEqual([]);
  });
  it('know which text is a code', () => {
    expect(isCode('record.frozen')).toBe(true);
    expect(isCode('record.invented_later')).toBe(false);
    expect(isCode('toString'), 'inherited properties are not codes').toBe(false);
  });
});
