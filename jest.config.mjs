// jest 30 runs the ESM build through @swc/jest (the compile options of .swcrc) under --experimental-vm-modules.
import { jestModuleNameMapper } from './libs/dev-infra/aliases.mjs';
import { swcCompileOptions } from './libs/dev-infra/swc-options.mjs';

const swc = ['@swc/jest', swcCompileOptions()];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    ...jestModuleNameMapper(),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.mjs',
      globalTeardown: '<rootDir>/test/setup/global-teardown.mjs',
      slowTestThreshold: 60,
    },
  ],
};
