package keys

import (
	"sync"

	"github.com/google/uuid"
)

// needKeyCacheSize bounds the needs whose keys a Keyring keeps: at 16 bytes
// of id, a 36-byte key id and 32 bytes of key, about 10 MB with the map's
// overhead.
const needKeyCacheSize = 1 << 16

// needKeyCache keeps the unwrapped keys of needs this process sealed or
// read, so that a need read or command opens its contact without reading
// the key row: on PostgreSQL that read was a round trip of its own on every
// request (a fifth of the server's CPU on a need read, about 40% of the
// database's).
//
// A key never changes, it only goes: an entry can only be wrong after an
// erasure, and erasures are rare. So the cache is emptied whole by every
// erasure this keyring makes and, on PostgreSQL, by every erasure any
// replica commits (its transaction sends a notification; watch.go). It is
// only used while those notifications can reach it: off until the
// keyring listens, off again while the listening connection is down, and
// emptied each time it comes back. A read between an erasure's commit and
// the notification's arrival (milliseconds) may still open the contact, as
// a read that fetched the key a moment before the erasure would.
//
// Holding unwrapped keys longer does not widen what a memory dump reveals:
// the process holds the master key, which unwraps them all.
type needKeyCache struct {
	mu sync.Mutex
	on bool
	// epoch counts the emptyings: a key read that began before one must
	// not be stored after it.
	epoch uint64
	m     map[uuid.UUID]NeedKey
}

// get returns the cached key of need id.
func (c *needKeyCache) get(id uuid.UUID) (NeedKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return NeedKey{}, false
	}
	nk, ok := c.m[id]
	return nk, ok
}

// begin returns the epoch a key read starts in, to give put.
func (c *needKeyCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// put keeps nk as need id's key, unless the cache is off or was emptied
// since epoch (the key may have been erased meanwhile).
func (c *needKeyCache) put(id uuid.UUID, nk NeedKey, epoch uint64) {
	if nk.id == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || epoch != c.epoch {
		return
	}
	if c.m == nil {
		c.m = make(map[uuid.UUID]NeedKey)
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= needKeyCacheSize {
		for k := range c.m { // any entry: the map's order is random
			delete(c.m, k)
			break
		}
	}
	c.m[id] = nk
}

// reset empties the cache and turns it on or off.
func (c *needKeyCache) reset(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.on = on
	clear(c.m)
}

// empty empties the cache, leaving it on or off.
func (c *needKeyCache) empty() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.m)
}

// Caching reports whether the keyring keeps needs' keys in memory now:
// only while it hears every erasure (Watch).
func (k *Keyring) Caching() bool {
	k.cache.mu.Lock()
	defer k.cache.mu.Unlock()
	return k.cache.on
}
