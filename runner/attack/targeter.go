package attack

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Class is one kind of request in the traffic mix.
type Class struct {
	Name   string
	Weight float64
	Method string
	// URL is absolute, e.g. http://127.0.0.1:8000/light?n=1.
	URL    string
	Header http.Header
	Body   []byte
}

// Targeter picks request classes at random in proportion to their
// weights, from a generator seeded so that the same seed gives the same
// sequence of classes.
type Targeter struct {
	mu      sync.Mutex
	rng     *rand.Rand
	classes []Class
	urls    []string
	cum     []float64 // cumulative weights
}

// NewTargeter returns a Targeter over classes. Every weight must be
// non-negative and at least one positive.
func NewTargeter(classes []Class, seed int64) (*Targeter, error) {
	if len(classes) == 0 {
		return nil, fmt.Errorf("traffic: no request classes")
	}
	t := &Targeter{rng: rand.New(rand.NewPCG(uint64(seed), 0x5a770074)), classes: classes}
	sum := 0.0
	for _, c := range classes {
		if c.Weight < 0 || c.Name == "" || strings.ContainsRune(c.Name, '#') {
			return nil, fmt.Errorf("traffic: class %q: want a name without '#' and a non-negative weight, got weight %v", c.Name, c.Weight)
		}
		sum += c.Weight
		t.cum = append(t.cum, sum)
		// The class rides in the URL's fragment: the HTTP client never
		// sends it, and vegeta copies the URL into the result.
		u, _, _ := strings.Cut(c.URL, "#")
		t.urls = append(t.urls, u+"#"+c.Name)
	}
	if sum <= 0 {
		return nil, fmt.Errorf("traffic: the weights of the request classes sum to %v, want more than 0", sum)
	}
	return t, nil
}

// SetWeights changes the classes' weights from now on, e.g. at the start
// of a phase with a mix of its own; nil restores the classes' own
// weights. It fails, changing nothing, unless there is one non-negative
// weight per class and at least one is positive.
func (t *Targeter) SetWeights(ws []float64) error {
	if ws == nil {
		ws = make([]float64, len(t.classes))
		for i, c := range t.classes {
			ws[i] = c.Weight
		}
	}
	if len(ws) != len(t.classes) {
		return fmt.Errorf("traffic: %d weights for %d request classes", len(ws), len(t.classes))
	}
	cum := make([]float64, len(ws))
	sum := 0.0
	for i, w := range ws {
		if w < 0 {
			return fmt.Errorf("traffic: class %q: negative weight %v", t.classes[i].Name, w)
		}
		sum += w
		cum[i] = sum
	}
	if sum <= 0 {
		return fmt.Errorf("traffic: the weights of the request classes sum to %v, want more than 0", sum)
	}
	t.mu.Lock()
	t.cum = cum
	t.mu.Unlock()
	return nil
}

// Next returns the index of the next class.
func (t *Targeter) Next() int {
	t.mu.Lock()
	cum := t.cum
	x := t.rng.Float64() * cum[len(cum)-1]
	t.mu.Unlock()
	i := sort.SearchFloat64s(cum, x)
	// SearchFloat64s finds the first cum >= x; skip zero-weight classes
	// that share the boundary.
	for i < len(cum)-1 && cum[i] <= x {
		i++
	}
	return i
}

// Targeter returns the vegeta.Targeter that fills each target from the
// next class.
func (t *Targeter) Targeter() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		t.fill(tgt, t.Next())
		return nil
	}
}

// fill sets tgt to a request of class i.
func (t *Targeter) fill(tgt *vegeta.Target, i int) {
	c := &t.classes[i]
	tgt.Method = c.Method
	tgt.URL = t.urls[i]
	tgt.Body = c.Body
	tgt.Header = c.Header
}

// Tag splits the URL of a result into the URL sent and the class name
// carried in its fragment. It is how results are tagged with their class.
//
// The class goes in Result.Attack, which vegeta documents as the attack's
// name, on purpose: each request class is an attack in the sense vegeta's
// own tools read the field (vegeta plot draws one series per Attack, and
// vegeta encode and report keep it), vegeta's result formats carry no
// other per-result name, and moving it would leave every recorded
// results.bin unreadable. The attack's own name, the scenario's, is in
// the run directory's meta.json.
func Tag(res *vegeta.Result) {
	if i := strings.LastIndexByte(res.URL, '#'); i >= 0 {
		res.Attack = res.URL[i+1:]
		res.URL = res.URL[:i]
	}
}
