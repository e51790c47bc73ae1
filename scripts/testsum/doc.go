// Command testsum summarises `go test -json` read from standard input, as
// .ci/run and `make test` need: one line per package ("ok", "FAIL",
// "no test files"), the full output of every failing test and of every
// package that failed outside a test (build errors, TestMain, panics,
// timeouts), and as its last line
//
//	N passed, N failed, N skipped
//
// counting tests and subtests; a package that failed outside any test
// counts as one failure. It exits 1 when anything failed or when the stream
// ended without a package result (a killed `go test`).
package main
