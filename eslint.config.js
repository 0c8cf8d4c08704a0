// @ts-check
import tseslint from 'typescript-eslint';
import { folderBoundaries } from './scripts/eslint/folder-boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-results/**', 'playwright-report/**', 'bin/**', 'scratch/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { flashline: { rules: { 'folder-boundaries': folderBoundaries } } },
    rules: {
      'flashline/folder-boundaries': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests may reach into anything; `any` is allowed where a test fakes a foreign module.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
