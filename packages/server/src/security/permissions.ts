// Who may do what, as data in one place: every HTTP route and every DIMSE service names the
// permission it needs, and a role grants a fixed set of permissions.
export const PERMISSIONS = [
  'query', // search studies/series/instances (QIDO-RS, C-FIND)
  'view', // read patient data: metadata, pixels, rendered images, retrieve (WADO, C-MOVE/C-GET)
  'store', // add objects (STOW-RS, C-STORE, key images and measurements)
  'delete', // remove studies, series or instances
  'export', // send to another node or download outside the console
  'modify-patients', // correct patient/study attributes, merge patients
  'manage-users', // accounts, roles, API tokens
  'configure', // DICOM nodes, server settings
  'read-audit', // the audit trail
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['administrator', 'radiologist', 'clinician', 'technologist', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  administrator: PERMISSIONS,
  radiologist: ['query', 'view', 'store', 'export'],
  clinician: ['query', 'view'],
  technologist: ['query', 'view', 'store', 'modify-patients'],
  auditor: ['read-audit'],
};

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/**
 * What a route declares: the permission it needs, 'authenticated' (any signed-in user, whatever
 * the role: their own profile, password and API tokens), or 'public' (health check, login).
 */
export type RouteAccess = Permission | 'authenticated' | 'public';

/** True when a caller with these roles may use a route declaring `access`. */
export function rolesAllow(roles: readonly Role[], access: RouteAccess): boolean {
  if (access === 'public') return true;
  if (access === 'authenticated') return roles.length > 0;
  return roles.some((role) => roleHasPermission(role, access));
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route: the enforcement hook refuses requests to routes without it. */
    access?: RouteAccess;
  }
}
