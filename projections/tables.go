package projections

// Tables returns the names of the live read-model tables of the engine's
// projections, in the order the projections run: what a tool comparing read
// models with a rebuild reads (reso verify). Checkpoints are not among
// them.
func (e *Engine) Tables() []string {
	var out []string
	for _, n := range e.opts.Projections {
		p, err := newProjection(n, &e.opts, true)
		if err != nil {
			continue // New refused unknown names
		}
		for _, t := range p.tables() {
			out = append(out, t.name)
		}
	}
	return out
}
