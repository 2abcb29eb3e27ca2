// For specs: the metrics a role's module graph registers, found without starting (or connecting) anything.
import 'reflect-metadata';

import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { MODULE_METADATA } from '@nestjs/common/constants.js';

import { loadConfig, type FunnelRole } from '@funnel/config';
import { MetricsRegistry } from '@funnel/metrics';

import { FunnelModule } from './funnel.module.js';
import { ROLE_PLANS } from './roles.js';

type ModuleRef = Type | DynamicModule;

/** The class providers of `modules` and of every module they import, each module once, imports first. */
function classProviders(modules: ModuleRef[], seen = new Set<Type>()): Type[] {
  return modules.flatMap((ref) => {
    const module = typeof ref === 'function' ? ref : ref?.module;
    if (typeof module !== 'function' || seen.has(module)) {
      return [];
    }
    seen.add(module);
    const dynamic: Partial<DynamicModule> = typeof ref === 'function' ? {} : ref;
    const read = <T>(key: string, extra: T[] = []): T[] => [
      ...((Reflect.getMetadata(key, module) as T[] | undefined) ?? []),
      ...extra,
    ];
    const imports = read<ModuleRef>(MODULE_METADATA.IMPORTS, dynamic.imports as ModuleRef[]);
    const providers = read<Provider>(MODULE_METADATA.PROVIDERS, dynamic.providers);
    return [...classProviders(imports, seen), ...providers.filter((p): p is Type => typeof p === 'function')];
  });
}

/**
 * The time series a process of `role` exports: every provider of its module graph that takes the
 * metrics registry is created with it (and nothing else; no lifecycle hook runs), as Nest would at boot.
 */
export function roleSeriesNames(role: FunnelRole): string[] {
  const config = loadConfig({ FUNNEL_ROLE: role });
  const registry = new MetricsRegistry(role, 'test');
  for (const provider of classProviders([FunnelModule.forRole(config, ROLE_PLANS[role], 'test')])) {
    const params = (Reflect.getMetadata('design:paramtypes', provider) as unknown[] | undefined) ?? [];
    if (params.includes(MetricsRegistry)) {
      new provider(...params.map((param) => (param === MetricsRegistry ? registry : undefined)));
    }
  }
  return registry.seriesNames();
}
