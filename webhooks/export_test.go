package webhooks

// Len exports size to the package's external tests.
func (d *MemoryDeduplicator) Len() int { return d.size() }
