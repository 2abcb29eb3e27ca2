// Stops what global-setup.mjs started (and leftovers of dead runs), never what a live `devstack up` owns.
// Jest loads global setup outside its module mapper, so this takes the built lib rather than the alias.
// eslint-disable-next-line no-restricted-imports
import { stopStarted } from '../../dist/libs/dev-infra/src/index.js';

export default async function globalTeardown() {
  await stopStarted();
}
