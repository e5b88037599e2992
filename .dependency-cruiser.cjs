// The allowed import directions of src/ (and of bench/ and scripts/), written down once; test/architecture.test.ts runs this
// in `npm test` and fails on any edge that climbs back up. From the bottom:
//   errors.ts, package-root.ts, types/    import nothing of src/
//   core/        the wasm core and its compiler
//   component/   the contract: what a source, stage or sink may import (plus core/)
//   config/      HOCON -> checked plain data (component/ for shared field groups; no runtime)
//   observe/     logging, metrics, health (config/ for the log settings)
//   stages/, io/ the components (and io/http/, the services they call): the contract and core/
//                only, each folder on its own
//   pipeline/    topology -> build -> run; only registry.ts imports the components
//   testing/     the test driver, over pipeline/
//   cli.ts, index.ts   the entry points, imported by nothing
// bench/ and scripts/ import nothing of test/; src/ nothing of test/, bench/ or scripts/.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle has no bottom layer.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'base-imports-nothing',
      severity: 'error',
      from: { path: '^src/(errors\\.ts|package-root\\.ts|types/)' },
      to: { path: '^src/', pathNot: '^src/(errors\\.ts|package-root\\.ts|types/)' },
    },
    {
      name: 'core-is-the-bottom',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/(core/|errors\\.ts|package-root\\.ts|types/)' },
    },
    {
      name: 'component-is-the-contract',
      severity: 'error',
      comment: 'The contract imports only core/ and the base: everything else builds on it.',
      from: { path: '^src/component/' },
      to: { path: '^src/', pathNot: '^src/(component/|core/|errors\\.ts|types/)' },
    },
    {
      name: 'config-knows-no-runtime',
      severity: 'error',
      comment: 'config/ turns HOCON into checked plain data; pipeline/ turns that into topologies.',
      from: { path: '^src/config/' },
      to: { path: '^src/(pipeline|io|stages|observe|testing)/|^src/(cli|index)\\.ts$' },
    },
    {
      name: 'observe-below-the-runtime',
      severity: 'error',
      from: { path: '^src/observe/' },
      to: { path: '^src/(pipeline|io|stages|testing)/|^src/(cli|index)\\.ts$' },
    },
    {
      name: 'components-import-the-contract',
      severity: 'error',
      comment: 'A source, stage, sink or service imports component/, core/ and libraries: no configuration, runtime or metrics registry.',
      from: { path: '^src/(io|stages)/' },
      to: { path: '^src/(config|pipeline|observe|testing)/|^src/(cli|index)\\.ts$' },
    },
    {
      name: 'components-stand-alone',
      severity: 'error',
      comment: 'stages/, io/kafka/, io/local/, io/http/: each imports only its own folder of the others.',
      from: { path: '^src/(stages|io/[^/]+)/' },
      to: { path: '^src/(stages|io/[^/]+)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-the-registry-imports-components',
      severity: 'error',
      comment: 'pipeline/ and testing/ reach sources, stages and sinks through pipeline/registry.ts (services in io/http/ are resources they build).',
      from: { path: '^src/(pipeline|testing)/', pathNot: '^src/pipeline/registry\\.ts$' },
      to: { path: '^src/(stages|io/kafka|io/local)/' },
    },
    {
      name: 'pipeline-below-testing',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/testing/' },
    },
    {
      name: 'src-stands-alone',
      severity: 'error',
      comment: 'What ships imports nothing of the tests, benchmarks or scripts.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'benchmarks-and-scripts-not-from-tests',
      severity: 'error',
      comment: 'bench/ and scripts/ share helpers through scripts/support/, not through test/.',
      from: { path: '^(bench|scripts)/' },
      to: { path: '^test/' },
    },
    {
      name: 'entry-points-imported-by-nothing',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/(cli|index)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build)/' },
    // type-only imports are edges too: a type that climbs up couples the layers as much
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
