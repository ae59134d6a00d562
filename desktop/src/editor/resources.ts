// What every editor needs from the daemon once: the connector catalogue, the functions, the JSON Schema.
import { api, call, type FunctionInfo } from '../api/client';
import type { CatalogueAction, JsonSchema } from './completion';

export interface EditorResources {
  actions: CatalogueAction[];
  functions: FunctionInfo[];
  schema: JsonSchema;
}

let cached: Promise<EditorResources> | undefined;

export function loadResources(): Promise<EditorResources> {
  cached ??= Promise.all([
    call(api.GET('/api/v1/connectors')) as Promise<{ actions?: CatalogueAction[] }>,
    call(api.GET('/api/v1/functions')),
    call(api.GET('/api/v1/schema')) as Promise<JsonSchema>,
  ]).then(([catalogue, functions, schema]) => ({ actions: catalogue.actions ?? [], functions, schema }));
  cached.catch(() => (cached = undefined));
  return cached;
}
