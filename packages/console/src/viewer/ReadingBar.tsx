// Reading controls above the viewports: the hanging protocol in use (switch it from the menu, or
// save the current layout as one's own) and which properties synchronised viewports share.
import type { HangingProtocol } from '../hanging-protocols';
import type { SyncOptions } from './sync';

interface ReadingBarProps {
  protocol: HangingProtocol | undefined;
  protocols: HangingProtocol[];
  onProtocol: (id: string) => void;
  onSave: () => void;
  /** Saving needs the study described (its series' modality, plane, description). */
  canSave: boolean;
  saveMessage: string;
  sync: SyncOptions;
  onSync: (options: SyncOptions) => void;
}

export function ReadingBar({ protocol, protocols, onProtocol, onSave, canSave, saveMessage, sync, onSync }: ReadingBarProps) {
  return (
    <div className="toolbar reading-bar" role="toolbar" aria-label="Reading" data-protocol={protocol?.id ?? ''} data-protocol-name={protocol?.name ?? ''}>
      <label className="toolbar-field" title="Hanging protocol: the layout and the series of each viewport">
        Protocol
        <select name="protocol" value={protocol?.id ?? ''} onChange={(e) => onProtocol(e.target.value)}>
          {!protocol && <option value="">—</option>}
          {protocols.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      </label>
      <button type="button" data-action="save-protocol" disabled={!canSave} title="Save the current layout and series choice as your own protocol for studies like this one" onClick={onSave}>
        Save as my protocol
      </button>
      {saveMessage && <span className="toolbar-field" data-save-message>{saveMessage}</span>}
      <span className="separator" />
      <label className="toolbar-field" title="Synchronised viewports share the window/level">
        <input type="checkbox" name="sync-voi" checked={sync.voi} onChange={(e) => onSync({ ...sync, voi: e.target.checked })} /> Sync W/L
      </label>
      <label className="toolbar-field" title="Synchronised viewports share zoom and pan">
        <input type="checkbox" name="sync-zoom" checked={sync.zoomPan} onChange={(e) => onSync({ ...sync, zoomPan: e.target.checked })} /> Sync zoom
      </label>
    </div>
  );
}
