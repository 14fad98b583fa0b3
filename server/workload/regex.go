package workload

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// record is one entry of the generated document.
type record struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	URL     string `json:"url"`
	Phone   string `json:"phone"`
	Date    string `json:"date"`
	Name    string `json:"name"`
	Comment string `json:"comment"`
}

// Document returns a deterministic JSON array of records about kib KiB long,
// the "large JSON payload" of the source article.
func Document(kib int) []byte {
	var b strings.Builder
	target := kib << 10
	b.Grow(target + 512)
	b.WriteByte('[')
	for i := 0; b.Len() < target-2; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		r := record{
			ID:      fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", i*2654435761%(1<<32), i%65536, i%4096, (i*7)%4096, i*11),
			Email:   "user" + strconv.Itoa(i) + "@example" + strconv.Itoa(i%97) + ".com",
			URL:     "https://api.example.com/v1/items/" + strconv.Itoa(i) + "?expand=owner&page=" + strconv.Itoa(i%13),
			Phone:   fmt.Sprintf("+81-%02d-%04d-%04d", i%90+10, i%10000, (i*37)%10000),
			Date:    fmt.Sprintf("20%02d-%02d-%02dT%02d:%02d:%02dZ", i%30, i%12+1, i%28+1, i%24, i%60, (i*7)%60),
			Name:    "Name " + strconv.Itoa(i) + " Surname",
			Comment: strings.Repeat("lorem ipsum dolor sit amet ", 1+i%4),
		}
		enc, _ := json.Marshal(r)
		b.Write(enc)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// rule is a pattern a field must (or must not) match.
type rule struct {
	re   *regexp.Regexp
	must bool
}

func must(p string) rule    { return rule{regexp.MustCompile(p), true} }
func mustNot(p string) rule { return rule{regexp.MustCompile(p), false} }

// fieldRules are the validation rules: several patterns per field, some
// unanchored, so that the cost per byte is real even with Go's linear-time
// regexp engine. They are compiled on first use, not at init: compiling
// them takes about 15 ms, which every worker process would otherwise pay at
// boot, on every recycling.
var fieldRules = sync.OnceValue(func() map[string][]rule {
	return map[string][]rule{
		"id": {
			must(`^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
			must(`(?i)^[[:xdigit:]-]+$`),
		},
		"email": {
			must(`^[a-zA-Z0-9._%+\-]+@[a-zA-Z0-9.\-]+\.[a-zA-Z]{2,}$`),
			mustNot(`(?i)(\.\.|@\.|\.@)`),
			must(`^.{3,254}$`),
		},
		"url": {
			must(`^https?://[\w.\-]+(:\d+)?(/[\w.\-~%]*)*(\?([\w.\-~%]+=[\w.\-~%]*&?)*)?$`),
			mustNot(`(?i)(javascript:|data:|<script)`),
			mustNot(`[\s"'<>]`),
		},
		"phone": {
			must(`^\+?\d{1,3}[\- ]?\d{1,4}[\- ]?\d{3,4}[\- ]?\d{4}$`),
		},
		"date": {
			must(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$`),
		},
		"name": {
			must(`^[\p{L} .'\-0-9]{1,100}$`),
			mustNot(`(?i)(select|insert|drop|union)\s`),
		},
		"comment": {
			mustNot(`(?i)(<script|onerror=|onload=|javascript:)`),
			mustNot(`(?i)\b(viagra|casino|lottery)\b`),
			must(`^[\p{L}\p{N}\p{P}\p{Z}]*$`),
			must(`(\w+)\s+\w+\s+\w+\s+\w+`),
		},
	}
})

// Validation is the outcome of Validate.
type Validation struct {
	Records int // records checked
	Checks  int // pattern matches run
	Flagged int // fields that broke a rule
}

// Validate parses doc as produced by Document and checks every field of every
// record against its rules, calling yield after each record. Its cost grows
// linearly with the document: 16 pattern matches per record of about 300 bytes.
func Validate(doc []byte, yield Yield) (Validation, error) {
	var recs []record
	if err := json.Unmarshal(doc, &recs); err != nil {
		return Validation{}, fmt.Errorf("validate: parse document: %w", err)
	}
	rules := fieldRules()
	var v Validation
	for i := range recs {
		r := &recs[i]
		fields := [...]struct {
			name, val string
		}{{"id", r.ID}, {"email", r.Email}, {"url", r.URL}, {"phone", r.Phone}, {"date", r.Date}, {"name", r.Name}, {"comment", r.Comment}}
		for _, f := range fields {
			for _, r := range rules[f.name] {
				v.Checks++
				if r.re.MatchString(f.val) != r.must {
					v.Flagged++
				}
			}
		}
		v.Records++
		if yield != nil {
			yield()
		}
	}
	return v, nil
}
