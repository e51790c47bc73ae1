package initproc

// execProcess is the exec side: the constructor has already joined the
// container's namespaces (its mount namespace puts us at the container's
// root), the runtime has placed us in its cgroup; what is left is the
// process's own settings.
func (is *initState) execProcess() error {
	if is.proc.Terminal {
		if err := is.setupConsole(false); err != nil {
			return err
		}
	}
	return is.finish()
}
