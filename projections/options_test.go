package projections_test

import "github.com/reso-fr/reso/projections"

func projectionsOptions() projections.Options { return projections.Options{} }
