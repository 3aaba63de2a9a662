// pilotFeaturesFromEnv: istiod's variable names and defaults (pilot/pkg/features/experimental.go), Go's
// strconv.ParseBool for the flag, pkg/env's warning and default for a value it refuses, and one shared frozen
// object for the defaults.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PILOT_FEATURES, parseGoBool, pilotFeaturesFromEnv } from './pilot-features.js';

describe('pilotFeaturesFromEnv', () => {
  it('no variable set: the defaults object itself (off, istio.io/persistent-session, istio.io/persistent-session-header)', () => {
    const r = pilotFeaturesFromEnv({ PATH: '/bin' });
    assert.equal(r.features, DEFAULT_PILOT_FEATURES);
    assert.deepEqual(r.features, { enablePersistentSessionFilter: false, persistentSessionLabel: 'istio.io/persistent-session', persistentSessionHeaderLabel: 'istio.io/persistent-session-header', enableMultipleCustomAuthzProviders: false });
    assert.deepEqual(r.problems, []);
    assert.ok(Object.isFrozen(DEFAULT_PILOT_FEATURES));
  });

  it('every spelling strconv.ParseBool accepts', () => {
    for (const v of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(pilotFeaturesFromEnv({ PILOT_ENABLE_PERSISTENT_SESSION_FILTER: v }).features.enablePersistentSessionFilter, true, v);
    for (const v of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(pilotFeaturesFromEnv({ PILOT_ENABLE_PERSISTENT_SESSION_FILTER: v }).features.enablePersistentSessionFilter, false, v);
  });

  it('a value ParseBool refuses (yes, on, tRUE, padded, empty) keeps the default with pkg/env`s warning', () => {
    for (const v of ['yes', 'on', 'tRUE', ' true', 'true ', '']) {
      const r = pilotFeaturesFromEnv({ PILOT_ENABLE_PERSISTENT_SESSION_FILTER: v });
      assert.equal(r.features.enablePersistentSessionFilter, false, v);
      assert.deepEqual(r.problems, [
        { path: 'PILOT_ENABLE_PERSISTENT_SESSION_FILTER', message: `Invalid environment variable value \`${v}\`, expecting true/false, defaulting to false`, severity: 'warning' },
      ]);
    }
    assert.equal(parseGoBool('yes'), undefined);
  });

  it('PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS: parsed the same way, reported the same way', () => {
    assert.equal(pilotFeaturesFromEnv({ PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS: 'true' }).features.enableMultipleCustomAuthzProviders, true);
    const bad = pilotFeaturesFromEnv({ PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS: 'yes' });
    assert.equal(bad.features, DEFAULT_PILOT_FEATURES);
    assert.deepEqual(bad.problems.map((p) => p.path), ['PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS']);
  });

  it('label names are taken as given; set to "" they are kept "" (that kind of session off)', () => {
    const r = pilotFeaturesFromEnv({ PILOT_ENABLE_PERSISTENT_SESSION_FILTER: 'true', PILOT_PERSISTENT_SESSION_LABEL: 'example.com/sticky', PILOT_PERSISTENT_SESSION_HEADER_LABEL: '' });
    assert.deepEqual(r.features, { enablePersistentSessionFilter: true, persistentSessionLabel: 'example.com/sticky', persistentSessionHeaderLabel: '', enableMultipleCustomAuthzProviders: false });
    assert.deepEqual(r.problems, []);
    assert.ok(Object.isFrozen(r.features));
  });
});
