package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/eventstore"
)

// eventGen makes realistic events (a need captured by an advisor: about
// 300 bytes of JSON and metadata) for one writer.
type eventGen struct {
	writer int
	n      int
	rng    *rand.Rand
}

func newEventGen(writer int) *eventGen {
	return &eventGen{writer: writer, rng: rand.New(rand.NewPCG(uint64(writer), 42))}
}

var subjects = []string{"recrutement", "financement", "export", "tresorerie", "transition_ecologique", "numerique"}

func (g *eventGen) batch(k int) ([]eventstore.NewEvent, error) {
	out := make([]eventstore.NewEvent, k)
	for i := range out {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		g.n++
		data := fmt.Appendf(nil,
			`{"need_id":%q,"siret":"418166096%05d","subject":%q,"commune":"%05d","description":"Besoin exprimé lors de la visite du conseiller, écrit %d","n":%d}`,
			id.String(), g.rng.IntN(100000), subjects[g.rng.IntN(len(subjects))], 1000+g.rng.IntN(95000), g.n, g.n)
		out[i] = eventstore.NewEvent{
			ID:            id,
			Type:          "need.captured",
			SchemaVersion: 1,
			Data:          json.RawMessage(data),
			Metadata: eventstore.Metadata{
				ActorID:       fmt.Sprintf("advisor-%d", g.writer),
				ActorRole:     "advisor",
				CorrelationID: id.String(),
			},
		}
	}
	return out, nil
}
