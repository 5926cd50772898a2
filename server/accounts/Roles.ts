/** The role table and its rules live in lib/shared/roles.ts (the page uses them too); the server imports them from here. */
export * from '../../lib/shared/roles';
