// Package hooks runs OCI lifecycle hooks (prestart, createRuntime,
// createContainer, startContainer, poststart, poststop) as the runtime-spec
// defines them: path executed with args as its argv (args[0] is argv0), env
// as its whole environment, the container state as JSON on stdin, and an
// optional timeout in seconds.
//
// Hooks are run with their stdin and output on anonymous memory files rather
// than pipes, so a hook that leaves a daemon behind holding those
// descriptors (a network helper, say) cannot make the runtime wait forever.
// Which namespace a hook runs in and when is the caller's business.
package hooks
