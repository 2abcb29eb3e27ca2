// Unit tests of how the console words an api refusal: an auth problem must read as one, not as a generic failure.
import { describe, expect, it } from '@jest/globals';

import { ApiError } from './api.js';

describe('ApiError.describe', () => {
  it('says a 401 needs a token and where to enter it', () => {
    expect(new ApiError(401, 'missing bearer token').describe()).toMatch(/^401 Unauthorized: this api needs a token/);
  });

  it('says a 403 token may not do this', () => {
    expect(new ApiError(403, 'read-only token').describe()).toMatch(/^403 Forbidden: the token is not allowed/);
  });

  it("keeps the api's own message for anything else", () => {
    expect(new ApiError(400, 'window must be minute, hour, day').describe()).toBe(
      '400: window must be minute, hour, day',
    );
  });
});
