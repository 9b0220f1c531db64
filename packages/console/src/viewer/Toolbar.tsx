// The toolbar: left-button tool, window presets, image orientation (rotate, flips, invert,
// reset), layout and cine. Every action acts on the active viewport; each title names its key.
import { CT_PRESETS, type WindowPreset } from '../presets';
import { LAYOUTS } from './layouts';
import { LEFT_TOOLS, type LeftTool } from './tools';

export type ImageAction = 'rotate' | 'flipH' | 'flipV' | 'invert' | 'reset';

export const IMAGE_ACTIONS: readonly { id: ImageAction; label: string; title: string; key: string }[] = [
  { id: 'rotate', label: '⟳ 90°', title: 'Rotate 90° clockwise', key: ']' },
  { id: 'flipH', label: '⇆ Flip', title: 'Flip horizontally', key: 'h' },
  { id: 'flipV', label: '⇅ Flip', title: 'Flip vertically', key: 'v' },
  { id: 'invert', label: 'Invert', title: 'Invert the grey scale', key: 'i' },
  { id: 'reset', label: 'Reset', title: 'Reset zoom, pan, rotation, flips, inversion and window', key: 'r' },
];

export const CINE_KEY = ' ';

interface ToolbarProps {
  leftTool: LeftTool;
  onTool: (tool: LeftTool) => void;
  preset: string;
  onPreset: (preset: WindowPreset) => void;
  onAction: (action: ImageAction) => void;
  layout: string;
  onLayout: (layout: string) => void;
  cine: { playing: boolean; fps: number; available: boolean };
  onCine: () => void;
  onFps: (fps: number) => void;
}

export function Toolbar({ leftTool, onTool, preset, onPreset, onAction, layout, onLayout, cine, onCine, onFps }: ToolbarProps) {
  return (
    <div className="toolbar" role="toolbar" aria-label="Viewer tools">
      {LEFT_TOOLS.map((t) => (
        <button type="button" key={t.id} aria-pressed={leftTool === t.id} data-tool={t.id} title={`${t.title} (${t.key})`} onClick={() => onTool(t.id)}>{t.label}</button>
      ))}
      <span className="separator" />
      {CT_PRESETS.map((x) => (
        <button type="button" key={x.id} aria-pressed={preset === x.id} data-preset={x.id} title={`${x.label}: W ${x.width} L ${x.center} (${x.key})`} onClick={() => onPreset(x)}>{x.label}</button>
      ))}
      <span className="separator" />
      {IMAGE_ACTIONS.map((a) => (
        <button type="button" key={a.id} data-action={a.id} title={`${a.title} (${a.key})`} onClick={() => onAction(a.id)}>{a.label}</button>
      ))}
      <span className="separator" />
      <label className="toolbar-field" title="Viewport layout, rows × columns">
        Layout
        <select name="layout" value={layout} onChange={(e) => onLayout(e.target.value)}>
          {LAYOUTS.map((l) => <option key={l.id} value={l.id}>{l.rows}×{l.columns}</option>)}
        </select>
      </label>
      <span className="separator" />
      <button type="button" data-action="cine" aria-pressed={cine.playing} disabled={!cine.available} title="Play or pause the cine loop (space)" onClick={onCine}>
        {cine.playing ? '❚❚ Pause' : '▶ Play'}
      </button>
      <label className="toolbar-field" title="Cine frame rate, frames per second">
        <input
          type="number" name="fps" min={1} max={120} step={1} value={cine.fps} disabled={!cine.available}
          onChange={(e) => { const v = Number(e.target.value); if (v >= 1 && v <= 120) onFps(v); }}
        />
        fps
      </label>
    </div>
  );
}
