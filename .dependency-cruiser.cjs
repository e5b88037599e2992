// The allowed import directions of src/ (and of bench/ and scripts/), written down once; test/architecture.test.ts runs this
// in `npm test` and fails on any edge that climbs back up. From the bottom:
//   errors.ts, package-root.ts, types/    import nothing of src/
//   core/        the wasm core and its compiler
//   component/   the contract: what a source, stage or sink may import (plus core/)
//   config/      HOCON -> checked plain data (component/ for shared field groups; no runtime)
//   observe/     logging, metrics, health (config/ for the log settings)
//   stages/, io/ the components (and io/http/, the services they call): the contract and core/
//                only, each folder on its own
//   state/       stores, changelogs, restore, checkpoints: the contract and the Kafka port
//                (io/kafka/transport.ts) only, never a client adapter
//   pipeline/    topology -> build -> run; only registry.ts imports the components
//   testing/     the test driver, over pipeline/
//   bench/       `sluice bench`, over pipeline/ (as testing/)
//   cli.ts, index.ts   the entry points, imported by nothing
// bench/ and scripts/ import nothing of test/; src/ nothing of test/, bench/ or scripts/.

/** An edge no import may make: from files matching `from` to files matching `to` (and not `toNot`). */
const forbid = (name, comment, from, to, toNot) => ({
  name,
  severity: 'error',
  comment,
  from: typeof from === 'string' ? { path: from } : from,
  to: toNot === undefined ? { path: to } : { path: to, pathNot: toNot },
});

const BASE = 'errors\\.ts|package-root\\.ts|types/';
const ENTRY_POINTS = '^src/(cli|index)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle has no bottom layer.', from: { path: '^src/' }, to: { circular: true } },
    forbid('base-imports-nothing', 'errors.ts, package-root.ts and types/ are imported by all.', `^src/(${BASE})`, '^src/', `^src/(${BASE})`),
    forbid('core-is-the-bottom', 'The core imports only the base.', '^src/core/', '^src/', `^src/(core/|${BASE})`),
    forbid('component-is-the-contract', 'The contract imports only core/ and the base: everything else builds on it.', '^src/component/', '^src/', `^src/(component/|core/|${BASE})`),
    forbid('config-knows-no-runtime', 'config/ turns HOCON into checked plain data; pipeline/ turns that into topologies.', '^src/config/', `^src/(pipeline|io|stages|observe|testing)/|${ENTRY_POINTS}`),
    forbid('observe-below-the-runtime', 'Logging, metrics and health know no flow, component or driver.', '^src/observe/', `^src/(pipeline|io|stages|testing)/|${ENTRY_POINTS}`),
    forbid(
      'components-import-the-contract',
      'A source, stage, sink or service imports component/, core/ and libraries: no configuration, runtime or metrics registry.',
      '^src/(io|stages)/',
      `^src/(config|pipeline|observe|testing)/|${ENTRY_POINTS}`,
    ),
    forbid('state-over-the-ports', 'State stores see Kafka through the transport port alone: which client runs it is the pipeline\'s choice.', '^src/state/', '^src/', `^src/(state/|component/|io/kafka/transport\\.ts$|${BASE})`),
    forbid('components-stand-alone', 'stages/, io/kafka/, io/local/, io/http/: each imports only its own folder of the others.', '^src/(stages|io/[^/]+)/', '^src/(stages|io/[^/]+)/', '^src/$1/'),
    forbid(
      'only-the-registry-imports-components',
      'pipeline/ and testing/ reach sources, stages and sinks through pipeline/registry.ts (services in io/http/ are resources they build).',
      { path: '^src/(pipeline|testing|bench)/', pathNot: '^src/pipeline/registry\\.ts$' },
      '^src/(stages|io/kafka|io/local)/',
    ),
    forbid('pipeline-below-testing', 'The test driver runs pipelines; pipelines know no driver.', '^src/pipeline/', '^src/testing/'),
    forbid('pipeline-below-bench', 'The bench runs pipelines; pipelines know no bench.', '^src/pipeline/', '^src/bench/'),
    forbid('src-stands-alone', 'What ships imports nothing of the tests, benchmarks or scripts.', '^src/', '^(test|bench|scripts)/'),
    forbid('benchmarks-and-scripts-not-from-tests', 'bench/ and scripts/ share helpers through scripts/support/, not through test/.', '^(bench|scripts)/', '^test/'),
    forbid('entry-points-imported-by-nothing', 'cli.ts and index.ts are where the layers end.', '^src/', ENTRY_POINTS),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build)/' },
    // type-only imports are edges too: a type that climbs up couples the layers as much
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
