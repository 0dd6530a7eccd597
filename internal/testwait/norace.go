//go:build !race

package testwait

// Race is true when the race detector is on.
const Race = false

const raceFactor = 1
