package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/reso-fr/reso/internal/keys"
)

// masterFlags adds the master key flags to fs and returns the function
// that reads them once parsed: the master (--master-key-file, or
// RESO_MASTER_KEY in base64), then the previous one during a rotation
// (--previous-master-key-file, or RESO_MASTER_KEY_PREVIOUS). None given is
// an empty list, not an error: each command decides.
func masterFlags(fs *flag.FlagSet) func() ([]*keys.Master, error) {
	file := fs.String("master-key-file", os.Getenv("RESO_MASTER_KEY_FILE"),
		"file holding the master key that wraps the contact keys, 32 bytes in base64 (env RESO_MASTER_KEY_FILE; or the key itself in RESO_MASTER_KEY)")
	prevFile := fs.String("previous-master-key-file", os.Getenv("RESO_MASTER_KEY_PREVIOUS_FILE"),
		"during a rotation, the master key the store's keys were wrapped under until now (env RESO_MASTER_KEY_PREVIOUS_FILE, or RESO_MASTER_KEY_PREVIOUS)")
	return func() ([]*keys.Master, error) {
		var out []*keys.Master
		for _, src := range []struct{ file, env string }{{*file, "RESO_MASTER_KEY"}, {*prevFile, "RESO_MASTER_KEY_PREVIOUS"}} {
			var m *keys.Master
			var err error
			switch {
			case src.file != "":
				m, err = keys.LoadMasterFile(src.file)
			case os.Getenv(src.env) != "":
				if m, err = keys.ParseMaster(os.Getenv(src.env)); err != nil {
					err = fmt.Errorf("%s: %w", src.env, err)
				}
			default:
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		if len(out) == 1 && (*prevFile != "" || os.Getenv("RESO_MASTER_KEY_PREVIOUS") != "") {
			return nil, fmt.Errorf("a previous master key is given without the current one")
		}
		return out, nil
	}
}
