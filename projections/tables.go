package projections

import "slices"

// Tables returns the names of the live tables of the read models the
// engine runs (Options.Projections), in their order: what a tool comparing
// read models with a rebuild reads (reso verify). Checkpoints are not
// among them.
func (e *Engine) Tables() []string {
	var out []string
	for _, m := range e.models {
		if !slices.Contains(e.opts.Projections, m.Name) {
			continue
		}
		for _, t := range m.Tables {
			out = append(out, t.Name)
		}
	}
	return out
}
