// Package lint owns the tests of batchrun's source rules; it has no code of
// its own. TestForbiddenImports checks that imports flow one way (STYLE.md
// rule 2): which batchrun packages, and which third-party modules, each
// package may import.
//
// It must not import any batchrun package or be imported: it reads the
// module through `go list`, never by linking it.
//
// Glossary:
//   - rule: what one package (and its subpackages, unless they have a rule of
//     their own) may import, with the sentence printed when it is broken.
//   - edge: a direct import of a non-test file (go list's Imports field);
//     test files may import anything.
//   - batchrun package: one in this module; third-party: any other
//     non-standard package.
//
// Not done yet: test-only imports are not checked, and neither are the
// layering rules inside a package.
package lint
