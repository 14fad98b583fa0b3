package reports

// writeFindings writes the findings, one a line after bullet, and a
// blank line; Markdown escapes them when bullet is a list item.
func (r *Report) writeFindings(b *errWriter, bullet string) {
	if len(r.Summary.Findings) == 0 {
		return
	}
	for _, f := range r.Summary.Findings {
		text := f.Text
		if bullet != "" {
			text = mdEscape(text)
		}
		b.printf("%s%s\n", bullet, text)
	}
	b.printf("\n")
}
