package analysis

import (
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
)

// Error kinds, as counted in ClassStats.Errors (defined in the metric
// catalogue, internal/metric). A response with an HTTP status outside
// 200-399 is counted as "http_<code>", e.g. "http_502".
const (
	ErrRefused = metric.ErrRefused // connection refused: nobody was listening
	ErrReset   = metric.ErrReset   // connection reset or broken pipe
	ErrEOF     = metric.ErrEOF     // the server closed the connection before answering (EOF)
	ErrTimeout = metric.ErrTimeout // the client's timeout or deadline passed
	ErrOther   = metric.ErrOther   // any other transport error
)

// ok reports whether a result is a success: an HTTP status in 200-399 and
// no transport error, as vegeta counts it.
func ok(r *vegeta.Result) bool {
	return r.Code >= 200 && r.Code < 400 && r.Error == ""
}

// errorKind classifies a failed result. It returns "" for a success.
func errorKind(r *vegeta.Result) string {
	if ok(r) {
		return ""
	}
	if r.Code != 0 && (r.Code < 200 || r.Code >= 400) {
		return "http_" + strconv.Itoa(int(r.Code))
	}
	return classifyError(r.Error)
}

// classifyError maps the text of a Go net/http client error, as vegeta
// records it in Result.Error, to an error kind.
func classifyError(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "connection refused"):
		return ErrRefused
	case strings.Contains(m, "connection reset"), strings.Contains(m, "broken pipe"):
		return ErrReset
	case strings.Contains(m, "timeout"), strings.Contains(m, "deadline exceeded"):
		return ErrTimeout
	case strings.Contains(m, "eof"), strings.Contains(m, "server closed"):
		return ErrEOF
	}
	return ErrOther
}
