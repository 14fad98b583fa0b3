package worker

import (
	"net"
	"testing"
)

// The budget never grants more than its limit, takes back unused claims,
// and grants nothing once closed.
func TestBudget(t *testing.T) {
	b := &budget{limit: 3}
	for i := range 3 {
		if !b.claim() {
			t.Fatalf("claim %d of 3 refused", i+1)
		}
	}
	if b.claim() {
		t.Fatal("a 4th claim under limit 3 was granted")
	}
	b.release()
	if !b.claim() {
		t.Fatal("a claim given back was not granted again")
	}
	b.release()
	b.close()
	if b.claim() {
		t.Fatal("a closed budget granted a claim")
	}
	var unlimited budget
	for range 1000 {
		if !unlimited.claim() {
			t.Fatal("an unlimited budget refused a claim")
		}
	}
}

// A connection's claim passes to its request when the request begins; a
// response keeps the connection only with a new claim; closing gives an
// unused claim back, and begun requests plus claims stay within the limit.
func TestConnClaims(t *testing.T) {
	b := &budget{limit: 3}
	conn := func() *gateConn {
		if !b.claim() {
			t.Fatal("accept: no claim")
		}
		c, _ := net.Pipe()
		return &gateConn{Conn: c, budget: b, claimed: true, release: func() {}}
	}
	a := conn()
	a.begin() // request 1 on a
	if !a.keep() {
		t.Fatal("response 1: a could not keep its connection with a claim free")
	}
	c := conn() // holds the last claim
	c.begin()   // request 2 on c
	if c.keep() {
		t.Fatal("response 2: c kept its connection with the budget spent")
	}
	a.begin() // request 3 on a, with the claim its response took
	if a.keep() {
		t.Fatal("response 3: a kept its connection past the limit")
	}
	// Close gives back only an unused claim.
	a.Close()
	c.Close()
	if b.committed != 3 {
		t.Fatalf("committed %d after 3 requests on closed connections, want 3", b.committed)
	}
	d := &gateConn{budget: b}
	if d.keep() {
		t.Fatal("a claim was granted past the limit")
	}
}
