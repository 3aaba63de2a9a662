// Import directions from ../shared/ARCHITECTURE.md. Each layer lists the only src/ layers it may import.
// `npm run lint` runs this over src/; a violation fails CI.
const allowed = {
  lib: [],
  api: ['lib'],
  xds: ['lib'],
  config: ['api', 'lib'],
  registry: ['api', 'lib'],
  model: ['api', 'registry', 'lib'],
  translate: ['model', 'api', 'registry', 'xds', 'lib'],
  'xds-server': ['translate', 'model', 'api', 'registry', 'xds', 'lib'],
  ca: ['xds', 'lib'],
  analyze: ['model', 'api', 'registry', 'lib'],
  proxy: ['xds', 'lib'],
  cli: ['analyze', 'config', 'model', 'registry', 'api', 'xds', 'lib', 'translate', 'xds-server', 'ca', 'proxy', 'dashboard'],
  // The dashboard's server reads the connected proxies (and their admin addresses) from the xDS server.
  dashboard: ['analyze', 'config', 'model', 'registry', 'api', 'xds', 'lib', 'xds-server'],
};
const layers = Object.keys(allowed).concat(['bin']);
const forbidden = [
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  {
    name: 'no-test-code-in-src',
    comment: 'production code must not import tests or test support',
    severity: 'error',
    from: { path: '^src/', pathNot: '\\.test\\.ts$' },
    to: { path: '(^test/|\\.test\\.ts$)' },
  },
];
for (const layer of layers.filter((l) => l !== 'bin')) {
  const ok = [layer, ...allowed[layer]];
  forbidden.push({
    name: `layer-${layer}`,
    comment: `src/${layer} may import only: ${ok.join(', ')}`,
    severity: 'error',
    from: { path: `^src/${layer}/` },
    to: { path: `^src/(?!(${ok.join('|')})/)` },
  });
}
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|node_modules|^src/xds/gen/)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
