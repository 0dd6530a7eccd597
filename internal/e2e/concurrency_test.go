package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// testConcurrency has 32 clients command one need at once.
func testConcurrency(t *testing.T, e *env) {
	const clients = 32
	t.Run("comments", func(t *testing.T) {
		n := e.mustForwarded(t, lille, e.r1)
		var wg sync.WaitGroup
		statuses := make([]int, clients)
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := []client{e.advisor1, e.ref1, e.anim59, e.admin}[i%4]
				statuses[i] = c.do(t, "POST", "/api/needs/"+n.ID+"/comments", map[string]any{"text": fmt.Sprintf("comment %d", i)}).status
			}()
		}
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("comment %d: status %d", i, s)
			}
		}
		var h historyBody
		e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/history", nil).json(t, &h)
		seen := map[string]bool{}
		for _, ev := range h.Events {
			if ev.Type == "CommentAdded" {
				seen[fmt.Sprint(ev.Data["text"])] = true
			}
		}
		for i := range clients {
			if !seen[fmt.Sprintf("comment %d", i)] {
				t.Errorf("comment %d lost", i)
			}
		}
		if len(seen) != clients {
			t.Errorf("%d distinct comments, want %d", len(seen), clients)
		}
	})
	t.Run("match actions", func(t *testing.T) {
		n := e.mustForwarded(t, lille, e.r1, e.r2)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := map[string]int{}
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, ref, action := e.ref1, e.r1, "take_charge"
				if i%2 == 1 {
					c, ref, action = e.ref2, e.r2, "decline"
				}
				r := c.do(t, "POST", "/api/needs/"+n.ID+"/matches/"+ref, map[string]any{"action": action})
				switch r.status {
				case http.StatusOK:
					mu.Lock()
					ok[action]++
					mu.Unlock()
				case http.StatusConflict:
				default:
					t.Errorf("%s: status %d: %s", action, r.status, r.body)
				}
			}()
		}
		wg.Wait()
		if ok["take_charge"] != 1 || ok["decline"] != 1 {
			t.Fatalf("successful actions %v, want exactly one of each", ok)
		}
		var got needView
		e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID, nil).json(t, &got)
		if got.match(t, e.r1) != "taking_care" || got.match(t, e.r2) != "not_for_me" || got.Status != "taking_care" {
			t.Fatalf("need after concurrent actions %+v", got)
		}
		var h historyBody
		e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/history", nil).json(t, &h)
		changes := 0
		for _, ev := range h.Events {
			if ev.Type == "MatchStatusChanged" {
				changes++
			}
		}
		if changes != 2 {
			t.Fatalf("%d match changes in history, want 2", changes)
		}
	})
}
