// What the viewer's toolbar, mouse buttons and keys can do, and how a user profile changes them:
// `toolbar` (which tools are shown, in which order), `mouseBindings` (the tool each button
// drives), `shortcuts` (command id → key) and `windowPresets` (the user's own beside the built-in
// ones). Pure, so that the rules are tested apart from Cornerstone and React; tools.ts applies the
// bindings to Cornerstone's tool group. Whatever the profile leaves out keeps the default.
import type { MouseButton } from '../api';
import { AUTO_PRESET, CT_PRESETS, type WindowPreset } from '../presets';

export type LeftTool = 'windowLevel' | 'pan' | 'zoom' | 'length' | 'angle' | 'ellipse' | 'rectangle' | 'probe';
/** Every tool a mouse button may drive: the toolbar's, and scrolling through the stack. */
export type ToolId = LeftTool | 'stackScroll';

export interface LeftToolDefinition { id: LeftTool; label: string; title: string; key: string; measures: boolean }

export const LEFT_TOOLS: readonly LeftToolDefinition[] = [
  { id: 'windowLevel', label: 'W/L', title: 'Window/level', key: 'w', measures: false },
  { id: 'pan', label: 'Pan', title: 'Pan', key: 'p', measures: false },
  { id: 'zoom', label: 'Zoom', title: 'Zoom', key: 'z', measures: false },
  { id: 'length', label: 'Length', title: 'Length', key: 'l', measures: true },
  { id: 'angle', label: 'Angle', title: 'Angle (three clicks)', key: 'a', measures: true },
  { id: 'ellipse', label: 'Ellipse', title: 'Elliptical ROI: mean, SD, area', key: 'e', measures: true },
  { id: 'rectangle', label: 'Rect', title: 'Rectangle ROI: mean, SD, area', key: 'b', measures: true },
  { id: 'probe', label: 'Probe', title: 'Probe: the pixel value at a point', key: 'x', measures: true },
];

export const TOOL_IDS: readonly ToolId[] = [...LEFT_TOOLS.map((t) => t.id), 'stackScroll'];
export const TOOL_LABELS: Readonly<Record<ToolId, string>> = {
  ...Object.fromEntries(LEFT_TOOLS.map((t) => [t.id, t.title])) as Record<LeftTool, string>, stackScroll: 'Scroll the stack',
};
/** The tools that do something with the wheel (Cornerstone's tools with a wheel callback). */
export const WHEEL_TOOLS: readonly ToolId[] = ['stackScroll', 'zoom'];

export type ImageAction = 'rotate' | 'flipH' | 'flipV' | 'invert' | 'reset';

export const IMAGE_ACTIONS: readonly { id: ImageAction; label: string; title: string; key: string }[] = [
  { id: 'rotate', label: '⟳ 90°', title: 'Rotate 90° clockwise', key: ']' },
  { id: 'flipH', label: '⇆ Flip', title: 'Flip horizontally', key: 'h' },
  { id: 'flipV', label: '⇅ Flip', title: 'Flip vertically', key: 'v' },
  { id: 'invert', label: 'Invert', title: 'Invert the grey scale', key: 'i' },
  { id: 'reset', label: 'Reset', title: 'Reset zoom, pan, rotation, flips, inversion and window', key: 'r' },
];

/** Moving through the active viewport's stack: command id → slices (±Infinity: to either end). */
export const SCROLL_COMMANDS: Readonly<Record<string, { slices: number; keys: string[] }>> = {
  nextImage: { slices: 1, keys: ['ArrowDown', 'ArrowRight'] },
  previousImage: { slices: -1, keys: ['ArrowUp', 'ArrowLeft'] },
  nextPage: { slices: 10, keys: ['PageDown'] },
  previousPage: { slices: -10, keys: ['PageUp'] },
  firstImage: { slices: -Infinity, keys: ['Home'] },
  lastImage: { slices: Infinity, keys: ['End'] },
};

export const CINE_COMMAND = 'cine';
export const KEY_IMAGE_COMMAND = 'keyImage';

export type Bindings = Partial<Record<MouseButton, ToolId>>;

/** Left W/L, middle pan, right zoom, wheel scroll; Shift and Ctrl with the left button do nothing. */
export const DEFAULT_BINDINGS: Readonly<Bindings> = { primary: 'windowLevel', middle: 'pan', secondary: 'zoom', wheel: 'stackScroll' };
export const MOUSE_BUTTONS: readonly { id: MouseButton; label: string }[] = [
  { id: 'primary', label: 'Left button' },
  { id: 'middle', label: 'Middle button' },
  { id: 'secondary', label: 'Right button' },
  { id: 'wheel', label: 'Wheel' },
  { id: 'shift-primary', label: 'Shift + left' },
  { id: 'ctrl-primary', label: 'Ctrl + left' },
];

const isTool = (id: string): id is ToolId => (TOOL_IDS as readonly string[]).includes(id);

/** The profile's bindings over the defaults; a tool the viewer does not know, or a wheel tool that has no wheel action, is ignored. */
export function resolveBindings(profile: Partial<Record<MouseButton, string>> | undefined): Bindings {
  const bindings: Bindings = { ...DEFAULT_BINDINGS };
  for (const { id: button } of MOUSE_BUTTONS) {
    const tool = profile?.[button];
    if (tool === undefined || !isTool(tool)) continue;
    if (button === 'wheel' && !WHEEL_TOOLS.includes(tool)) continue;
    bindings[button] = tool;
  }
  return bindings;
}

/** The toolbar's tools: the profile's list in its order (unknown ids ignored), or every tool. */
export function resolveToolbar(profile: readonly string[] | undefined): LeftToolDefinition[] {
  if (!profile) return [...LEFT_TOOLS];
  return profile.map((id) => LEFT_TOOLS.find((t) => t.id === id)).filter((t): t is LeftToolDefinition => t !== undefined);
}

/**
 * The presets of the toolbar: the built-in ones, a user preset of the same id in their place (with
 * the built-in key unless it names its own), then the user's others.
 */
export function resolvePresets(user: readonly WindowPreset[] | undefined): WindowPreset[] {
  const mine = new Map((user ?? []).map((p) => [p.id, p]));
  const builtIn = CT_PRESETS.map((p) => {
    const own = mine.get(p.id);
    return own ? { ...own, key: own.key ?? p.key } : p;
  });
  return [...builtIn, ...(user ?? []).filter((p) => !CT_PRESETS.some((b) => b.id === p.id))];
}

/** What a key press looks like, as KeyboardEvent gives it. */
export interface KeyPress { key: string; ctrlKey?: boolean; altKey?: boolean; shiftKey?: boolean; metaKey?: boolean }

const MODIFIERS = ['Ctrl', 'Alt', 'Shift', 'Meta'] as const;

/**
 * One spelling per key press: modifiers in the order Ctrl, Alt, Shift, Meta, then the key as
 * KeyboardEvent.key names it ("Space" for the space bar, which a profile cannot write as " ").
 * Shift is not written before a single character: it already made that character ("L", "+").
 */
export function keyOfPress(press: KeyPress): string {
  const key = press.key === ' ' ? 'Space' : press.key;
  const single = [...key].length === 1;
  const on = { Ctrl: press.ctrlKey, Alt: press.altKey, Shift: press.shiftKey && !single, Meta: press.metaKey };
  return [...MODIFIERS.filter((m) => on[m]), key].join('+');
}

/** A profile's key ("l", "Shift+ArrowUp", "Ctrl++") in the spelling keyOfPress gives; "Shift+l" is "L". */
export function normalizeKey(text: string): string {
  const [, prefix = '', named = ''] = /^((?:(?:Ctrl|Alt|Shift|Meta)\+)*)(.+)$/.exec(text) ?? [];
  const mods = new Set(prefix.split('+'));
  let key = named === 'Space' ? ' ' : named;
  if ([...key].length === 1 && mods.has('Shift')) key = key.toUpperCase();
  return keyOfPress({ key, ctrlKey: mods.has('Ctrl'), altKey: mods.has('Alt'), shiftKey: mods.has('Shift'), metaKey: mods.has('Meta') });
}

/** A command and the keys it has when the profile says nothing of it. */
export interface Command { id: string; keys: readonly string[] }

/** Every command of the viewer with its default keys, window presets included (their own key). */
export function viewerCommands(presets: readonly WindowPreset[]): Command[] {
  return [
    ...LEFT_TOOLS.map((t) => ({ id: t.id, keys: [t.key] })),
    ...presets.map((p) => ({ id: p.id, keys: p.key ? [p.key] : [] })),
    { id: AUTO_PRESET.id, keys: [AUTO_PRESET.key] },
    ...IMAGE_ACTIONS.map((a) => ({ id: a.id, keys: [a.key] })),
    ...Object.entries(SCROLL_COMMANDS).map(([id, c]) => ({ id, keys: c.keys })),
    { id: CINE_COMMAND, keys: [' '] },
    { id: KEY_IMAGE_COMMAND, keys: ['k'] },
  ];
}

/**
 * Key → command. A command the profile gives a key has that key only; a key the profile gives to
 * one command is taken from whichever command had it by default. Ids the viewer does not know are
 * ignored.
 */
export function resolveKeymap(commands: readonly Command[], shortcuts: Readonly<Record<string, string>> | undefined): Map<string, string> {
  const chosen = new Map(Object.entries(shortcuts ?? {}).filter(([id]) => commands.some((c) => c.id === id)));
  const keymap = new Map<string, string>();
  for (const command of commands) {
    if (chosen.has(command.id)) continue;
    for (const key of command.keys) {
      const normal = normalizeKey(key);
      if (!keymap.has(normal)) keymap.set(normal, command.id);
    }
  }
  for (const [id, key] of chosen) keymap.set(normalizeKey(key), id);
  return keymap;
}

/** The key shown in a title for a command (the first one the keymap gives it), or ''. */
export function keyOfCommand(keymap: ReadonlyMap<string, string>, id: string): string {
  for (const [key, command] of keymap) if (command === id) return key === 'Space' ? 'space' : key;
  return '';
}
