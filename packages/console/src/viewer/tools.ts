// The tools of the viewer: which tool the left mouse button drives (chosen in the toolbar or by
// key), the fixed bindings of the other buttons, and the one tool group all viewports share.
import {
  AngleTool, EllipticalROITool, Enums as ToolEnums, LengthTool, PanTool, RectangleROITool,
  StackScrollTool, ToolGroupManager, WindowLevelTool, ZoomTool, type Types as ToolTypes,
} from '@cornerstonejs/tools';
import { StackProbeTool } from './stackProbe';

export const TOOL_GROUP_ID = 'loire-tools';

export type LeftTool = 'windowLevel' | 'pan' | 'zoom' | 'length' | 'angle' | 'ellipse' | 'rectangle' | 'probe';

export interface LeftToolDefinition { id: LeftTool; label: string; title: string; toolName: string; key: string; measures: boolean }

export const LEFT_TOOLS: readonly LeftToolDefinition[] = [
  { id: 'windowLevel', label: 'W/L', title: 'Window/level', toolName: WindowLevelTool.toolName, key: 'w', measures: false },
  { id: 'pan', label: 'Pan', title: 'Pan', toolName: PanTool.toolName, key: 'p', measures: false },
  { id: 'zoom', label: 'Zoom', title: 'Zoom', toolName: ZoomTool.toolName, key: 'z', measures: false },
  { id: 'length', label: 'Length', title: 'Length', toolName: LengthTool.toolName, key: 'l', measures: true },
  { id: 'angle', label: 'Angle', title: 'Angle (three clicks)', toolName: AngleTool.toolName, key: 'a', measures: true },
  { id: 'ellipse', label: 'Ellipse', title: 'Elliptical ROI: mean, SD, area', toolName: EllipticalROITool.toolName, key: 'e', measures: true },
  { id: 'rectangle', label: 'Rect', title: 'Rectangle ROI: mean, SD, area', toolName: RectangleROITool.toolName, key: 'b', measures: true },
  { id: 'probe', label: 'Probe', title: 'Probe: the pixel value at a point', toolName: StackProbeTool.toolName, key: 'x', measures: true },
];

export const ALL_TOOLS = [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool, AngleTool, EllipticalROITool, RectangleROITool, StackProbeTool];

const { Primary, Auxiliary, Secondary, Wheel } = ToolEnums.MouseBindings;

/** The tool group, created with the default bindings: W/L left, pan middle, zoom right, scroll wheel. */
export function createToolGroup(): ToolTypes.IToolGroup {
  ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
  const group = ToolGroupManager.createToolGroup(TOOL_GROUP_ID)!;
  for (const tool of ALL_TOOLS) group.addTool(tool.toolName);
  group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: Wheel }] });
  selectLeftTool(group, 'windowLevel');
  return group;
}

/** Binds the left button to `tool`; pan and zoom keep the middle and right buttons; measurements stay visible and editable. */
export function selectLeftTool(group: ToolTypes.IToolGroup, tool: LeftTool): void {
  for (const t of LEFT_TOOLS) {
    if (t.id === tool) continue;
    if (t.id === 'pan') group.setToolActive(t.toolName, { bindings: [{ mouseButton: Auxiliary }] });
    else if (t.id === 'zoom') group.setToolActive(t.toolName, { bindings: [{ mouseButton: Secondary }] });
    else group.setToolPassive(t.toolName);
  }
  const chosen = LEFT_TOOLS.find((t) => t.id === tool)!;
  group.setToolActive(chosen.toolName, { bindings: [{ mouseButton: Primary }] });
}
