package plots

import (
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// addMarks draws each set of marks as vertical dash-dotted lines, in a
// colour of its own.
func addMarks(pn *panel, ms []Marks) {
	palette := []color.NRGBA{{R: 30, G: 90, B: 200, A: 200}, {R: 140, G: 40, B: 170, A: 200}, {R: 20, G: 140, B: 120, A: 200}}
	for i, m := range ms {
		if len(m.T) == 0 {
			continue
		}
		em := &exitMarks{xs: m.T, style: draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.5),
			Dashes: []vg.Length{vg.Points(6), vg.Points(2), vg.Points(1), vg.Points(2)}}}
		pn.p.Add(em)
		pn.legend.Add(m.Label, em)
	}
}
