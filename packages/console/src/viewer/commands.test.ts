import { describe, expect, it } from 'vitest';
import { CT_PRESETS } from '../presets';
import {
  DEFAULT_BINDINGS, keyOfCommand, keyOfPress, LEFT_TOOLS, normalizeKey, resolveBindings, resolveKeymap, resolvePresets, resolveToolbar, viewerCommands,
} from './commands';

describe('the viewer profile: toolbar, mouse bindings, shortcuts, presets', () => {
  it('keeps every default when the profile says nothing', () => {
    expect(resolveToolbar(undefined).map((t) => t.id)).toEqual(LEFT_TOOLS.map((t) => t.id));
    expect(resolveBindings(undefined)).toEqual({ primary: 'windowLevel', middle: 'pan', secondary: 'zoom', wheel: 'stackScroll' });
    expect(resolvePresets(undefined)).toEqual(CT_PRESETS);
    const keymap = resolveKeymap(viewerCommands(CT_PRESETS), undefined);
    expect(Object.fromEntries(keymap)).toMatchObject({
      w: 'windowLevel', l: 'length', x: 'probe', 1: 'brain', 5: 'mediastinum', 6: 'auto', ']': 'rotate', r: 'reset',
      ArrowDown: 'nextImage', ArrowRight: 'nextImage', ArrowUp: 'previousImage', PageDown: 'nextPage', Home: 'firstImage', End: 'lastImage',
      Space: 'cine', k: 'keyImage',
    });
  });

  it('shows the profile\'s tools in its order and ignores the ids it does not know', () => {
    expect(resolveToolbar(['length', 'nosuchtool', 'windowLevel']).map((t) => t.id)).toEqual(['length', 'windowLevel']);
    expect(resolveToolbar([])).toEqual([]);
  });

  it('binds the buttons the profile names over the defaults; unknown tools and wheel-less wheel tools are ignored', () => {
    expect(resolveBindings({ primary: 'length', 'shift-primary': 'pan', 'ctrl-primary': 'zoom', middle: 'nosuchtool', wheel: 'length' }))
      .toEqual({ ...DEFAULT_BINDINGS, primary: 'length', 'shift-primary': 'pan', 'ctrl-primary': 'zoom' });
    expect(resolveBindings({ wheel: 'zoom', secondary: 'stackScroll' })).toEqual({ ...DEFAULT_BINDINGS, wheel: 'zoom', secondary: 'stackScroll' });
  });

  it('gives a command the profile\'s key only, taking the key from the command that had it', () => {
    const keymap = resolveKeymap(viewerCommands(CT_PRESETS), { length: 'w', nextImage: 'Shift+ArrowDown', cine: 'c', nosuchcommand: 'q' });
    expect(keymap.get('w')).toBe('length');
    expect(keymap.has('l')).toBe(false);
    expect(keymap.get('Shift+ArrowDown')).toBe('nextImage');
    expect(keymap.has('ArrowDown')).toBe(false);
    expect(keymap.get('ArrowUp')).toBe('previousImage');
    expect(keymap.get('c')).toBe('cine');
    expect(keymap.has('Space')).toBe(false);
    expect(keymap.has('q')).toBe(false);
    expect(keyOfCommand(keymap, 'length')).toBe('w');
    expect(keyOfCommand(keymap, 'windowLevel')).toBe('');
  });

  it('spells a key press and a profile key alike', () => {
    expect(keyOfPress({ key: 'ArrowUp', shiftKey: true })).toBe(normalizeKey('Shift+ArrowUp'));
    expect(keyOfPress({ key: 'L', shiftKey: true })).toBe(normalizeKey('Shift+l'));
    expect(keyOfPress({ key: 's', ctrlKey: true })).toBe(normalizeKey('Ctrl+s'));
    expect(keyOfPress({ key: '+', ctrlKey: true, shiftKey: true })).toBe(normalizeKey('Ctrl++'));
    expect(keyOfPress({ key: '+' })).toBe(normalizeKey('+'));
    expect(keyOfPress({ key: ' ' })).toBe(normalizeKey('Space'));
    expect(keyOfPress({ key: 'l', ctrlKey: true })).not.toBe(normalizeKey('l'));
  });

  it('shows the user\'s presets beside the built-in ones, with their keys; one of the same id replaces the built-in', () => {
    const mine = [{ id: 'liver', label: 'Liver', width: 150, center: 90, key: '7' }, { id: 'lung', label: 'My lung', width: 1600, center: -550 }];
    const presets = resolvePresets(mine);
    expect(presets.map((p) => p.id)).toEqual(['brain', 'lung', 'bone', 'abdomen', 'mediastinum', 'liver']);
    expect(presets[1]!.label).toBe('My lung');
    const keymap = resolveKeymap(viewerCommands(presets), undefined);
    expect(keymap.get('7')).toBe('liver');
    expect(keymap.get('2')).toBe('lung'); // the user's lung names no key of its own
  });
});
