// Package spec loads and validates an OCI bundle's config.json into the
// runtime-spec's own specs.Spec (the one config model of the project), makes
// its paths absolute against the bundle, and produces the default config that
// `unha-runtime spec` prints. Everything here is pure: no syscalls beyond
// reading the bundle, so it is table-tested without root.
package spec
