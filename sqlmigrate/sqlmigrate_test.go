package sqlmigrate

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"ordered by version", fstest.MapFS{
			"0010_b.sql": {Data: []byte("B")}, "0002_a.sql": {Data: []byte("A")}, "notes.txt": {},
		}, []int{2, 10}, false},
		{"empty", fstest.MapFS{}, nil, false},
		{"no number", fstest.MapFS{"events.sql": {}}, nil, true},
		{"zero", fstest.MapFS{"0000_x.sql": {}}, nil, true},
		{"same version", fstest.MapFS{"0001_a.sql": {}, "1_b.sql": {}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms, err := Load(tt.files)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Load: error %v, want error %v", err, tt.wantErr)
			}
			if len(ms) != len(tt.want) {
				t.Fatalf("Load: %d migrations, want %d", len(ms), len(tt.want))
			}
			for i, m := range ms {
				if m.Version != tt.want[i] {
					t.Errorf("migration %d: version %d, want %d", i, m.Version, tt.want[i])
				}
				if want := string(tt.files[m.Name].Data); m.SQL != want {
					t.Errorf("migration %s: SQL %q, want %q", m.Name, m.SQL, want)
				}
			}
		})
	}
}
