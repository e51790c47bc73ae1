package caps

// Names lists every capability this package knows, in number order (for
// `features`).
func Names() []string { return append([]string(nil), names[:]...) }
