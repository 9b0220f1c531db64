import { describe, expect, it } from 'vitest';
import { configFileSchema } from '../config/config.js';
import { claimAt, rolesFromClaims } from './oidc.js';

const mapping = { rolesClaim: 'groups', roleMapping: { 'PACS-Rad': 'radiologist', 'PACS-Admin': 'administrator' } as const };

describe('OpenID Connect claim mapping', () => {
  it('reads nested claims by dotted path', () => {
    expect(claimAt({ realm_access: { roles: ['a'] } }, 'realm_access.roles')).toEqual(['a']);
    expect(claimAt({ realm_access: 'x' }, 'realm_access.roles')).toBeUndefined();
    expect(claimAt({}, 'a.b.c')).toBeUndefined();
  });

  it('maps a string or an array of strings to roles, in the order of ROLES, ignoring the rest', () => {
    expect(rolesFromClaims({ groups: 'PACS-Rad' }, mapping)).toEqual(['radiologist']);
    expect(rolesFromClaims({ groups: ['PACS-Rad', 'other', 42, 'PACS-Admin'] }, mapping)).toEqual(['administrator', 'radiologist']);
    expect(rolesFromClaims({ groups: { 'PACS-Rad': true } }, mapping)).toEqual([]);
    expect(rolesFromClaims({}, mapping)).toEqual([]);
    // Case matters: IdP group names are compared exactly.
    expect(rolesFromClaims({ groups: ['pacs-rad'] }, mapping)).toEqual([]);
  });

  it('never maps inherited object keys', () => {
    expect(rolesFromClaims({ groups: ['constructor', '__proto__', 'toString'] }, mapping)).toEqual([]);
  });

  it('validates the configuration', () => {
    const base = { issuer: 'https://idp.example/realms/h', clientId: 'loire', clientSecret: 's', redirectUri: 'https://pacs.example/api/oidc/callback', roleMapping: { g: 'clinician' } };
    expect(configFileSchema.safeParse({ security: { oidc: base } }).success).toBe(true);
    expect(configFileSchema.parse({ security: { oidc: base } }).security.oidc).toMatchObject({ usernameClaim: 'preferred_username', rolesClaim: 'roles', allowInsecureHttp: false });
    expect(configFileSchema.safeParse({ security: { oidc: { ...base, roleMapping: { g: 'superuser' } } } }).success).toBe(false);
    expect(configFileSchema.safeParse({ security: { oidc: { ...base, roleMapping: {} } } }).success).toBe(false);
    expect(configFileSchema.safeParse({ security: { oidc: { ...base, redirectUri: 'https://pacs.example/elsewhere' } } }).success).toBe(false);
    expect(configFileSchema.safeParse({ security: { oidc: { ...base, issuer: 'not a url' } } }).success).toBe(false);
  });
});
