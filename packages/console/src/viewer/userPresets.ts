// The reader's own window presets, made from the window on screen ("Save current window" in
// Settings) and kept in the profile beside the built-in ones, which a preset of the same id
// replaces (see resolvePresets in commands.ts).
import type { WindowPreset } from '../presets';

/** The profile's preset ids: a letter or digit, then letters, digits, ".", "_" or "-" (64 at most). */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** An id made from the label the reader typed: "Foie (portal)" → "foie-portal"; "lung" stays "lung". */
export function presetIdOf(label: string): string {
  const id = label.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|[._-]+$/g, '').slice(0, 64);
  return ID_PATTERN.test(id) ? id : `preset-${Date.now().toString(36)}`;
}

/** A preset of the window shown, rounded as readers write windows; undefined without a label. */
export function presetOfWindow(label: string, key: string, window: { width: number; center: number }): WindowPreset | undefined {
  const name = label.trim();
  if (!name || !(window.width > 0)) return undefined;
  const preset: WindowPreset = { id: presetIdOf(name), label: name, width: Math.max(1, Math.round(window.width)), center: Math.round(window.center) };
  const shortcut = key.trim();
  if (shortcut) preset.key = shortcut;
  return preset;
}

/** The list with `preset` added, or in place of the one of the same id. */
export function withPreset(presets: readonly WindowPreset[] | undefined, preset: WindowPreset): WindowPreset[] {
  const list = [...(presets ?? [])];
  const at = list.findIndex((p) => p.id === preset.id);
  if (at >= 0) list[at] = preset;
  else list.push(preset);
  return list;
}
