// Drafts of typed text: saved into the device store (Rust) shortly after the technician stops
// typing, so leaving the screen, a crash or a flat battery loses nothing. Committing a field as
// an edit drops its draft on the Rust side.
import { backend } from './backend';
import type { DraftField } from './generated/DraftField';
import type { DraftView } from './generated/DraftView';

/** Quiet time after the last keystroke before the draft is written. */
export const DRAFT_DEBOUNCE_MS = 400;

/** A stable key for a field, to find its draft among those `drafts` returned. */
export function fieldKey(f: DraftField): string {
  return f.type === 'diagnosis' || f.type === 'work_performed' ? f.type : `${f.type}/${f.template_id}/${f.item_id}`;
}

/** The drafts of an order by [`fieldKey`]. */
export function byField(drafts: DraftView[]): Map<string, string> {
  return new Map(drafts.map((d) => [fieldKey(d.field), d.text]));
}

/** Debounced draft writes for the screen's order; `flush` writes what is pending now (on leaving). */
export function draftSaver(currentOrder: () => string) {
  const pending = new Map<string, { orderId: string; field: DraftField; text: string; timer: ReturnType<typeof setTimeout> }>();
  const write = async (key: string): Promise<void> => {
    const p = pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(key);
    await backend.saveDraft({ order_id: p.orderId, field: p.field, text: p.text }).catch(() => undefined);
  };
  return {
    schedule(field: DraftField, text: string) {
      const orderId = currentOrder();
      const key = `${orderId}|${fieldKey(field)}`;
      const old = pending.get(key);
      if (old) clearTimeout(old.timer);
      pending.set(key, { orderId, field, text, timer: setTimeout(() => write(key), DRAFT_DEBOUNCE_MS) });
    },
    /** Write every pending draft now; call before committing, so the commit clears the latest. */
    async flush(): Promise<void> {
      await Promise.all([...pending.keys()].map(write));
    },
  };
}
