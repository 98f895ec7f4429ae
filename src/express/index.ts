export * from './outbound-auth.js';
