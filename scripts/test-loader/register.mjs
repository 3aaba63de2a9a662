// `node --import <this file>`: TypeScript for the test run (hooks.mjs), with stack traces in the sources' lines.
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./hooks.mjs', import.meta.url);
