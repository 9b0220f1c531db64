// The toolbar: the left-button tool (the tools the reader's profile shows, in its order), window
// presets (built-in, the reader's own, and MR auto), image orientation (rotate, flips, invert,
// reset), layout and cine. Every action acts on the active viewport; each title names its key.
import type { ReactNode } from 'react';
import { AUTO_PRESET, type WindowPreset } from '../presets';
import { CINE_COMMAND, IMAGE_ACTIONS, keyOfCommand, type ImageAction, type LeftTool, type LeftToolDefinition } from './commands';
import { LAYOUTS, layoutById } from './layouts';

interface ToolbarProps {
  tools: readonly LeftToolDefinition[];
  leftTool: string;
  onTool: (tool: LeftTool) => void;
  presets: readonly WindowPreset[];
  preset: string;
  onPreset: (preset: WindowPreset) => void;
  onAutoWindow: () => void;
  onAction: (action: ImageAction) => void;
  /** Key → command, for the titles. */
  keymap: ReadonlyMap<string, string>;
  layout: string;
  onLayout: (layout: string) => void;
  cine: { playing: boolean; fps: number; available: boolean };
  onCine: () => void;
  onFps: (fps: number) => void;
  /** The reader's settings (mouse buttons, toolbar), at the end of the bar. */
  children?: ReactNode;
}

export function Toolbar({ tools, leftTool, onTool, presets, preset, onPreset, onAutoWindow, onAction, keymap, layout, onLayout, cine, onCine, onFps, children }: ToolbarProps) {
  const withKey = (title: string, id: string) => {
    const key = keyOfCommand(keymap, id);
    return key ? `${title} (${key})` : title;
  };
  const current = layoutById(layout);
  return (
    <div className="toolbar" role="toolbar" aria-label="Viewer tools">
      {tools.map((t) => (
        <button type="button" key={t.id} aria-pressed={leftTool === t.id} data-tool={t.id} title={withKey(t.title, t.id)} onClick={() => onTool(t.id)}>{t.label}</button>
      ))}
      <span className="separator" />
      {presets.map((x) => (
        <button type="button" key={x.id} aria-pressed={preset === x.id} data-preset={x.id} title={withKey(`${x.label}: W ${x.width} L ${x.center}`, x.id)} onClick={() => onPreset(x)}>{x.label}</button>
      ))}
      <button
        type="button" aria-pressed={preset === AUTO_PRESET.id} data-preset={AUTO_PRESET.id} onClick={onAutoWindow}
        title={withKey('MR auto: the window from the 1st to the 99th percentile of the values of the image shown', AUTO_PRESET.id)}
      >
        {AUTO_PRESET.label}
      </button>
      <span className="separator" />
      {IMAGE_ACTIONS.map((a) => (
        <button type="button" key={a.id} data-action={a.id} title={withKey(a.title, a.id)} onClick={() => onAction(a.id)}>{a.label}</button>
      ))}
      <span className="separator" />
      <label className="toolbar-field" title="Viewport layout, rows × columns">
        Layout
        <select name="layout" value={layout} onChange={(e) => onLayout(e.target.value)}>
          {!LAYOUTS.some((l) => l.id === layout) && <option value={layout}>{current.rows}×{current.columns}</option>}
          {LAYOUTS.map((l) => <option key={l.id} value={l.id}>{l.rows}×{l.columns}</option>)}
        </select>
      </label>
      <span className="separator" />
      <button type="button" data-action="cine" aria-pressed={cine.playing} disabled={!cine.available} title={withKey('Play or pause the cine loop', CINE_COMMAND)} onClick={onCine}>
        {cine.playing ? '❚❚ Pause' : '▶ Play'}
      </button>
      <label className="toolbar-field" title="Cine frame rate, frames per second">
        <input
          type="number" name="fps" min={1} max={120} step={1} value={cine.fps} disabled={!cine.available}
          onChange={(e) => { const v = Number(e.target.value); if (v >= 1 && v <= 120) onFps(v); }}
        />
        fps
      </label>
      {children && <span className="separator" />}
      {children}
    </div>
  );
}
