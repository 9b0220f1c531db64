// Window/level presets for CT, in Hounsfield units (the usual radiology settings).
export interface WindowPreset { id: string; label: string; width: number; center: number; key?: string }

export const CT_PRESETS: readonly WindowPreset[] = [
  { id: 'brain', label: 'Brain', width: 80, center: 40, key: '1' },
  { id: 'lung', label: 'Lung', width: 1500, center: -600, key: '2' },
  { id: 'bone', label: 'Bone', width: 1800, center: 400, key: '3' },
  { id: 'abdomen', label: 'Abdomen', width: 400, center: 50, key: '4' },
  { id: 'mediastinum', label: 'Mediastinum', width: 350, center: 50, key: '5' },
];

/**
 * The window computed from the displayed image's own values (see viewer/autoWindow.ts), for MR and
 * any image whose header window means nothing; a hanging protocol may name it by its id.
 */
export const AUTO_PRESET = { id: 'auto', label: 'MR auto', key: '6' } as const;
