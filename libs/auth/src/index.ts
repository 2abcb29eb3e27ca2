// The auth lib's public surface: the module, the route decorator, and what the CLI and the logs need.
export { checkReadingSensors, requestTokenId } from './auth.guard.js';
export { AuthModule } from './auth.module.js';
export { BEARER_SCHEME, RequireScope, type SensorsIn } from './require-scope.decorator.js';
export { presentedToken, SCOPES, tokenId, type Scope } from './token.js';
export { shownToken, tokenRequest } from './tokens.controller.js';
export { tokensCollection, TokensRepository, type TokenDoc, type TokenInfo } from './tokens.repository.js';
