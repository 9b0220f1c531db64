// The tools of the viewer in Cornerstone: the one tool group all viewports share, and the mouse
// bindings (which tool each button drives, see commands.ts) applied to it.
import {
  AngleTool, EllipticalROITool, Enums as ToolEnums, LengthTool, PanTool, RectangleROITool,
  StackScrollTool, ToolGroupManager, WindowLevelTool, ZoomTool, type Types as ToolTypes,
} from '@cornerstonejs/tools';
import type { MouseButton } from '../api';
import { DEFAULT_BINDINGS, TOOL_IDS, type Bindings, type ToolId } from './commands';
import { StackProbeTool } from './stackProbe';

export const TOOL_GROUP_ID = 'loire-tools';

export const TOOL_NAMES: Readonly<Record<ToolId, string>> = {
  windowLevel: WindowLevelTool.toolName, pan: PanTool.toolName, zoom: ZoomTool.toolName, length: LengthTool.toolName,
  angle: AngleTool.toolName, ellipse: EllipticalROITool.toolName, rectangle: RectangleROITool.toolName,
  probe: StackProbeTool.toolName, stackScroll: StackScrollTool.toolName,
};

export const ALL_TOOLS = [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool, AngleTool, EllipticalROITool, RectangleROITool, StackProbeTool];

const { Primary, Auxiliary, Secondary, Wheel } = ToolEnums.MouseBindings;
const { Shift, Ctrl } = ToolEnums.KeyboardBindings;

const BINDING: Readonly<Record<MouseButton, ToolTypes.IToolBinding>> = {
  primary: { mouseButton: Primary },
  middle: { mouseButton: Auxiliary },
  secondary: { mouseButton: Secondary },
  wheel: { mouseButton: Wheel },
  'shift-primary': { mouseButton: Primary, modifierKey: Shift },
  'ctrl-primary': { mouseButton: Primary, modifierKey: Ctrl },
};

/** The tool group, with the default bindings: W/L left, pan middle, zoom right, scroll wheel. */
export function createToolGroup(): ToolTypes.IToolGroup {
  ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
  const group = ToolGroupManager.createToolGroup(TOOL_GROUP_ID)!;
  for (const tool of ALL_TOOLS) group.addTool(tool.toolName);
  applyBindings(group, DEFAULT_BINDINGS);
  return group;
}

/**
 * Gives each tool exactly the buttons `bindings` gives it. A tool with none is passive: the
 * measurements it drew stay visible and editable. Cornerstone adds a tool's new bindings to its
 * old ones, hence every tool loses them all first.
 */
export function applyBindings(group: ToolTypes.IToolGroup, bindings: Readonly<Bindings>): void {
  for (const id of TOOL_IDS) group.setToolPassive(TOOL_NAMES[id], { removeAllBindings: true });
  for (const id of TOOL_IDS) {
    const buttons = (Object.entries(bindings) as [MouseButton, ToolId | undefined][]).filter(([, tool]) => tool === id).map(([button]) => BINDING[button]);
    if (buttons.length > 0) group.setToolActive(TOOL_NAMES[id], { bindings: buttons });
  }
}
