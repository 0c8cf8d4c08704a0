// @ts-check
import tseslint from 'typescript-eslint';

/**
 * The folders are named for the runtime their code needs (docs/architecture.md); these rules keep
 * them honest: only electron/ imports electron, the renderer sees only common/, core/ and native/ run
 * in plain Node.
 */
const ours = (...folders) => folders.flatMap((f) => [`**/${f}/*`, `**/${f}/**`, `../${f}/*`]);
const restrict = (folders, extra = []) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'electron', message: 'Only electron/ may import electron.' }, ...extra],
      patterns: [{ group: ours(...folders), message: 'This folder may not import that folder (see docs/architecture.md).' }],
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-results/**', 'playwright-report/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['common/**/*.ts'], rules: restrict(['core', 'native', 'electron', 'renderer', 'cloud', 'app']) },
  { files: ['native/**/*.ts'], rules: restrict(['core', 'electron', 'renderer', 'cloud', 'app']) },
  { files: ['core/**/*.ts'], rules: restrict(['electron', 'renderer', 'cloud', 'app']) },
  { files: ['cloud/**/*.ts'], rules: restrict(['core', 'native', 'electron', 'renderer', 'app']) },
  { files: ['app/**/*.ts'], rules: restrict(['electron', 'renderer']) },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: restrict(['core', 'native', 'electron', 'cloud', 'app'], [
      { name: 'better-sqlite3', message: 'The renderer talks only to the station API.' },
      { name: 'serialport', message: 'The renderer talks only to the station API.' },
    ]),
  },
);
