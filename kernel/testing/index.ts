// The one home of shared test support: the app in-process, real services and their gate, waiting.
// Bus and etcd helpers are in ./bus.ts and ./etcd.ts (they pull in heavier dependencies).
export * from './app.ts';
export * from './services.ts';
export * from './wait.ts';
export { spawnApp, type SpawnedApp } from '../spawn-app.ts';
export * from './outcomes.ts';
