import { z } from 'zod';
import { LOW_STOCK_THRESHOLD_MAX } from '../../common/settings.js';
import type { StationDatabase } from '../db/open-database.js';

/** Settings rows live in the `settings` table under this prefix, one JSON value per key. */
const KEY_PREFIX = 'line:';

const schemas = {
  productId: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  batchId: z.string().min(1).nullable(),
  /** Set once product and batch were chosen (first-time step or a supervisor). */
  productionChosen: z.boolean(),
  autoRun: z.boolean(),
  labelStockId: z.string().min(1).nullable(),
  lowStockThreshold: z.number().int().min(0).max(LOW_STOCK_THRESHOLD_MAX).nullable(),
  sounds: z.boolean(),
} as const;

export type StoredSettings = { -readonly [K in keyof typeof schemas]: z.infer<(typeof schemas)[K]> };
export type SettingName = keyof StoredSettings;

/**
 * The line's persisted choices (settings table). A stored value that no longer parses (an older
 * station wrote something else) reads as absent, so the default applies instead of a crash. Every
 * change writes an audit row in the same transaction, naming who changed it.
 */
export class StationSettings {
  constructor(private readonly db: StationDatabase) {}

  get<K extends SettingName>(name: K): StoredSettings[K] | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(KEY_PREFIX + name) as { value: string } | undefined;
    if (!row) return undefined;
    try {
      const parsed = schemas[name].safeParse(JSON.parse(row.value));
      return parsed.success ? (parsed.data as StoredSettings[K]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes the changed values (and one audit row per change) atomically; unchanged ones are skipped. */
  set(changes: Partial<StoredSettings>, by: string): (keyof StoredSettings)[] {
    const at = new Date().toISOString();
    return this.db.transaction(() => {
      const changed: SettingName[] = [];
      for (const name of Object.keys(changes) as SettingName[]) {
        const value = schemas[name].parse(changes[name]);
        const before = this.get(name);
        if (before !== undefined && JSON.stringify(before) === JSON.stringify(value)) continue;
        this.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(KEY_PREFIX + name, JSON.stringify(value));
        this.db
          .prepare('INSERT INTO audit_log (at, token_id, event, from_state, to_state, detail) VALUES (?, NULL, ?, NULL, NULL, ?)')
          .run(at, 'setting-changed', `${name}: ${before === undefined ? '(unset)' : JSON.stringify(before)} -> ${JSON.stringify(value)} by ${by}`);
        changed.push(name);
      }
      return changed;
    })();
  }
}
