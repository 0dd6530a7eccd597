package app

import (
	"sync"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// needCacheSize bounds the folded needs a Service keeps: the needs being
// worked on now, a few events each.
const needCacheSize = 8192

// needCache keeps the events of needs this Service has just read or
// written, so that the next command on a need decides without reading its
// stream again. An entry may be stale (another replica, or a writer that
// bypasses this Service, appended since): it is only ever trusted by
// commands, which append with the version it holds, so a stale entry costs
// a concurrency conflict, then a fresh read, never a lost or doubled
// event. A command whose decision, scope check or idempotency check failed
// on a cached entry reads the stream again before answering (execute).
// Reads (GET need, history) never use it.
type needCache struct {
	mu sync.Mutex
	m  map[uuid.UUID][]domain.Event
}

// get returns the cached events of need id as a loaded whose raw events
// are absent: callers must not need them (no idempotency key).
func (c *needCache) get(id uuid.UUID) (loaded, bool) {
	c.mu.Lock()
	evs, ok := c.m[id]
	c.mu.Unlock()
	if !ok {
		return loaded{}, false
	}
	return loaded{events: evs}, true
}

// put records the events of need id, in stream order from version 1.
// They are shared: neither side may change them.
func (c *needCache) put(id uuid.UUID, events []domain.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[uuid.UUID][]domain.Event)
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= needCacheSize {
		for k := range c.m { // any entry: the map's order is random
			delete(c.m, k)
			break
		}
	}
	c.m[id] = events
}

func (c *needCache) drop(id uuid.UUID) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// appended returns prev followed by the events of news as a reader of the
// stream would decode them (the exact bytes stored, not the values that
// were marshalled), for the cache.
func appended(prev []domain.Event, news []eventstore.NewEvent) ([]domain.Event, error) {
	out := make([]domain.Event, len(prev), len(prev)+len(news))
	copy(out, prev)
	for _, e := range news {
		d, err := domain.Unmarshal(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
