// Package compat checks that data written by earlier releases of Réso still
// opens: testdata/releases holds, per release, a small embedded data
// directory written by that release and the answers its HTTP API gave on
// it (expected.json). The test opens each directory with today's code and
// asks the same questions; every field the old release answered must come
// back with the same value (new fields may be added).
//
// A release adds its own directory with
//
//	go test ./internal/compat -run TestWriteRelease -write-release=testdata/releases/NAME
//
// run on the release's code (docs/operations.md, "Upgrades").
package compat
