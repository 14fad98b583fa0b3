package worker

import "testing"

// A loop worker's slots never let admitted requests plus connections
// waiting for their first request pass max_requests.
func TestSlots(t *testing.T) {
	s := &slots{limit: 3}
	if !s.reserve() || !s.reserve() {
		t.Fatal("reserve with free slots failed")
	}
	if !s.take() {
		t.Fatal("take with a free slot failed")
	}
	if s.take() || s.reserve() {
		t.Fatal("took or reserved a slot beyond the limit (1 admitted + 2 reserved = 3)")
	}
	s.unreserve(true) // a connection's first request begins
	if s.take() || s.reserve() {
		t.Fatal("a first request beginning freed a slot; it should only move it")
	}
	s.unreserve(false) // a connection closes without a request
	if !s.take() {
		t.Fatal("a closed connection's slot was not given back")
	}
	if s.admitted != 3 || s.reserved != 0 {
		t.Errorf("admitted %d reserved %d, want 3, 0", s.admitted, s.reserved)
	}
	if s.take() || s.reserve() {
		t.Error("took a slot after max_requests requests")
	}

	var unlimited slots
	for range 1000 {
		if !unlimited.reserve() || !unlimited.take() {
			t.Fatal("no max_requests, yet a slot was refused")
		}
	}
}
