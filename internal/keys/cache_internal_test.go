package keys

import (
	"testing"

	"github.com/google/uuid"
)

// TestNeedKeyCacheRules checks the cache's rules one by one: off until
// turned on, a read that began before an emptying is not kept, and the
// size stays bounded.
func TestNeedKeyCacheRules(t *testing.T) {
	t.Parallel()
	id, nk := uuid.New(), NeedKey{id: "k1", key: []byte("0123456789abcdef0123456789abcdef")}
	tests := []struct {
		name  string
		steps func(c *needKeyCache)
		want  bool
	}{
		{"off until listening", func(c *needKeyCache) { c.put(id, nk, c.begin()) }, false},
		{"on", func(c *needKeyCache) { c.reset(true); c.put(id, nk, c.begin()) }, true},
		{"a read that began before an erasure", func(c *needKeyCache) {
			c.reset(true)
			e := c.begin()
			c.empty()
			c.put(id, nk, e)
		}, false},
		{"a read that began before the listener fell", func(c *needKeyCache) {
			c.reset(true)
			e := c.begin()
			c.reset(false)
			c.reset(true)
			c.put(id, nk, e)
		}, false},
		{"emptied by an erasure", func(c *needKeyCache) { c.reset(true); c.put(id, nk, c.begin()); c.empty() }, false},
		{"off while the listener is down", func(c *needKeyCache) { c.reset(true); c.put(id, nk, c.begin()); c.reset(false) }, false},
		{"no key is not kept", func(c *needKeyCache) { c.reset(true); c.put(id, NeedKey{}, c.begin()) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c needKeyCache
			tt.steps(&c)
			if _, ok := c.get(id); ok != tt.want {
				t.Errorf("cached: %v, want %v", ok, tt.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		var c needKeyCache
		c.reset(true)
		for range needKeyCacheSize + 10 {
			c.put(uuid.New(), nk, c.begin())
		}
		if n := len(c.m); n != needKeyCacheSize {
			t.Errorf("%d entries, want %d", n, needKeyCacheSize)
		}
	})
}
