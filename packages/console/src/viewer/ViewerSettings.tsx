// The reader's own settings, from the toolbar: which tool each mouse button drives, which tools the
// toolbar shows, the layout a study opens in when no hanging protocol decides, and "Save to my
// profile" (PUT /api/profile with If-Match, like the study list's columns) so that they follow the
// reader to any station. Changes apply at once; saving keeps them. Window presets are saved as
// they are made or removed: the window on screen becomes a named preset, with a key if given.
import { useState } from 'react';
import type { MouseButton } from '../api';
import type { WindowPreset } from '../presets';
import { LEFT_TOOLS, MOUSE_BUTTONS, TOOL_IDS, TOOL_LABELS, WHEEL_TOOLS, type Bindings, type LeftTool, type ToolId } from './commands';
import { LAYOUTS } from './layouts';

interface SettingsProps {
  bindings: Bindings;
  onBindings: (bindings: Bindings) => void;
  /** The toolbar's tools, in order. */
  toolbar: readonly LeftTool[];
  onToolbar: (toolbar: LeftTool[]) => void;
  /** The default layout (the profile's), undefined when the reader never chose one. */
  defaultLayout: string | undefined;
  onDefaultLayout: (layout: string) => void;
  onSave: () => void;
  saveMessage: string;
  /** The profile is still being read: saving now could overwrite it. */
  canSave: boolean;
  /** The reader's own presets (the profile's). */
  presets: readonly WindowPreset[];
  /** Saves the active viewport's window as a preset; resolves to what to tell the reader. */
  onAddPreset: (label: string, key: string) => Promise<string>;
  onRemovePreset: (id: string) => Promise<string>;
}

export function ViewerSettings({
  bindings, onBindings, toolbar, onToolbar, defaultLayout, onDefaultLayout, onSave, saveMessage, canSave, presets, onAddPreset, onRemovePreset,
}: SettingsProps) {
  const [presetLabel, setPresetLabel] = useState('');
  const [presetKey, setPresetKey] = useState('');
  const [presetMessage, setPresetMessage] = useState('');
  const presetChange = (work: Promise<string>) => {
    setPresetMessage('Saving…');
    void work.then(setPresetMessage);
  };
  const layouts = defaultLayout && !LAYOUTS.some((l) => l.id === defaultLayout) ? [...LAYOUTS.map((l) => l.id), defaultLayout] : LAYOUTS.map((l) => l.id);
  const bind = (button: MouseButton, tool: string) => {
    const next = { ...bindings };
    if (tool) next[button] = tool as ToolId;
    else delete next[button];
    onBindings(next);
  };
  // A tool shown again goes to the end: the order is the reader's.
  const show = (tool: LeftTool, shown: boolean) => onToolbar(shown ? [...toolbar.filter((id) => id !== tool), tool] : toolbar.filter((id) => id !== tool));
  return (
    <details className="viewer-settings">
      <summary title="Mouse buttons, toolbar, layout and window presets, saved to your profile">⚙ Settings</summary>
      <div className="viewer-settings-body">
        <fieldset>
          <legend>Mouse</legend>
          {MOUSE_BUTTONS.map((b) => (
            <label key={b.id} className="toolbar-field">
              {b.label}{' '}
              <select name={`binding-${b.id}`} value={bindings[b.id] ?? ''} onChange={(e) => bind(b.id, e.target.value)}>
                <option value="">—</option>
                {(b.id === 'wheel' ? WHEEL_TOOLS : TOOL_IDS).map((t) => <option key={t} value={t}>{TOOL_LABELS[t]}</option>)}
              </select>
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Toolbar</legend>
          {LEFT_TOOLS.map((t) => (
            <label key={t.id} className="toolbar-field">
              <input type="checkbox" name={`toolbar-${t.id}`} checked={toolbar.includes(t.id)} onChange={(e) => show(t.id, e.target.checked)} /> {t.title}
            </label>
          ))}
        </fieldset>
        <label className="toolbar-field">
          Default layout{' '}
          <select name="default-layout" value={defaultLayout ?? '1x1'} onChange={(e) => onDefaultLayout(e.target.value)}>
            {layouts.map((id) => <option key={id} value={id}>{id.replace('x', ' × ')}</option>)}
          </select>
        </label>
        <button type="button" data-action="save-settings" disabled={!canSave} onClick={onSave} title="Keep these mouse buttons, this toolbar and this layout in your profile">
          Save to my profile
        </button>
        {saveMessage && <span className="toolbar-field" data-settings-message>{saveMessage}</span>}
        <fieldset>
          <legend>Window presets</legend>
          {presets.map((p) => (
            <span key={p.id} className="toolbar-field" data-user-preset={p.id}>
              {p.label} ({p.width}/{p.center}{p.key ? `, key ${p.key}` : ''}){' '}
              <button type="button" data-action="remove-preset" disabled={!canSave} title={`Remove the preset ${p.label} from your profile`}
                onClick={() => presetChange(onRemovePreset(p.id))}>✕</button>
            </span>
          ))}
          <label className="toolbar-field">Name <input name="preset-label" value={presetLabel} maxLength={100} onChange={(e) => setPresetLabel(e.target.value)} /></label>
          <label className="toolbar-field">Key <input name="preset-key" value={presetKey} maxLength={20} size={4} onChange={(e) => setPresetKey(e.target.value)} /></label>
          <button type="button" data-action="add-preset" disabled={!canSave || !presetLabel.trim()} title="Save the window of the active viewport as a preset of your profile"
            onClick={() => presetChange(onAddPreset(presetLabel, presetKey).then((message) => { setPresetLabel(''); setPresetKey(''); return message; }))}>
            Save current window
          </button>
          {presetMessage && <span className="toolbar-field" data-preset-message>{presetMessage}</span>}
        </fieldset>
      </div>
    </details>
  );
}
