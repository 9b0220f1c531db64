// The reader's own settings, from the toolbar: which tool each mouse button drives, which tools the
// toolbar shows, and "Save to my profile" (PUT /api/profile with If-Match, like the study list's
// columns) so that they follow the reader to any station. Changes apply at once; saving keeps them.
import type { MouseButton } from '../api';
import { LEFT_TOOLS, MOUSE_BUTTONS, TOOL_IDS, TOOL_LABELS, WHEEL_TOOLS, type Bindings, type LeftTool, type ToolId } from './commands';

interface SettingsProps {
  bindings: Bindings;
  onBindings: (bindings: Bindings) => void;
  /** The toolbar's tools, in order. */
  toolbar: readonly LeftTool[];
  onToolbar: (toolbar: LeftTool[]) => void;
  onSave: () => void;
  saveMessage: string;
  /** The profile is still being read: saving now could overwrite it. */
  canSave: boolean;
}

export function ViewerSettings({ bindings, onBindings, toolbar, onToolbar, onSave, saveMessage, canSave }: SettingsProps) {
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
      <summary title="Mouse buttons and toolbar, saved to your profile">⚙ Settings</summary>
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
        <button type="button" data-action="save-settings" disabled={!canSave} onClick={onSave} title="Keep these mouse buttons and this toolbar in your profile">
          Save to my profile
        </button>
        {saveMessage && <span className="toolbar-field" data-settings-message>{saveMessage}</span>}
      </div>
    </details>
  );
}
