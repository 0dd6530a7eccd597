package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// series is one line or set of bars of a chart.
type series struct {
	Name   string
	Values []float64 // NaN: no value
	Dash   string    // stroke-dasharray of a line ("" solid)
	Color  string
	Marker string // "circle", "square" or "diamond": lines differ by shape, not by colour alone
}

// chart is a server-rendered SVG chart: bars (one series) or lines, over
// labelled categories, with a title, axis labels and a legend. The same
// figures always show in a table beside it.
type chart struct {
	ID     string
	Title  string
	Desc   string
	XLabel string
	YLabel string
	Labels []string
	Series []series
	Bars   bool
	// Max, when set, is the top of the axis (100 for percentages).
	Max float64
}

const (
	chartW, chartH                        = 720, 320
	padLeft, padRight, padTop, padBottom  = 64, 16, 40, 72
	plotW, plotH                          = chartW - padLeft - padRight, chartH - padTop - padBottom
	axisColor, gridColor, textColor, blue = "#3a3a3a", "#dddddd", "#161616", "#000091"
	green, orange                         = "#18753c", "#b34000"
	defaultTicks                          = 5
	maxXLabels                            = 12
	fontSize                              = 12
	legendGap                             = 150
	markerSize                            = 3.5
	barGapRatio                           = 0.25
)

// niceMax rounds an axis top up to 1, 2, 2.5 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// SVG renders the chart.
func (ch chart) SVG() template.HTML {
	top := ch.Max
	if top == 0 {
		for _, s := range ch.Series {
			for _, v := range s.Values {
				if !math.IsNaN(v) && v > top {
					top = v
				}
			}
		}
		top = niceMax(top)
	}
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, ch.ID, ch.ID)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, ch.ID, esc(ch.Title), ch.ID, esc(ch.Desc))
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="15" font-weight="bold" fill="%s">%s</text>`, padLeft, textColor, esc(ch.Title))
	y := func(v float64) float64 { return padTop + plotH - v/top*plotH }
	// Grid and y axis.
	for i := 0; i <= defaultTicks; i++ {
		v := top * float64(i) / defaultTicks
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`, padLeft, yy, padLeft+plotW, yy, gridColor)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="%d" text-anchor="end" fill="%s">%s</text>`, padLeft-6, yy+4, fontSize, textColor, esc(tickLabel(v, top)))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, padLeft, padTop, padLeft, padTop+plotH, axisColor)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, padLeft, padTop+plotH, padLeft+plotW, padTop+plotH, axisColor)
	fmt.Fprintf(&b, `<text transform="translate(14 %d) rotate(-90)" font-size="%d" text-anchor="middle" fill="%s">%s</text>`,
		padTop+plotH/2, fontSize, textColor, esc(ch.YLabel))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="%d" text-anchor="middle" fill="%s">%s</text>`,
		padLeft+plotW/2, chartH-8, fontSize, textColor, esc(ch.XLabel))
	n := len(ch.Labels)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" text-anchor="middle" fill="%s">Aucune donnée</text></svg>`, padLeft+plotW/2, padTop+plotH/2, textColor)
		return template.HTML(b.String())
	}
	slot := float64(plotW) / float64(n)
	x := func(i int) float64 { return padLeft + slot*(float64(i)+0.5) }
	every := (n + maxXLabels - 1) / maxXLabels
	for i, l := range ch.Labels {
		if i%every != 0 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="%d" text-anchor="middle" fill="%s">%s</text>`, x(i), padTop+plotH+18, fontSize, textColor, esc(l))
	}
	if ch.Bars && len(ch.Series) > 0 {
		s := ch.Series[0]
		w := slot * (1 - barGapRatio)
		for i, v := range s.Values {
			if math.IsNaN(v) || i >= n {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s : %s</title></rect>`,
				x(i)-w/2, y(v), w, padTop+plotH-y(v), colorOr(s.Color, blue), esc(ch.Labels[i]), esc(tickLabel(v, 0)))
		}
	} else {
		for _, s := range ch.Series {
			var pts []string
			flush := func() {
				if len(pts) > 1 {
					fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2.5" stroke-dasharray="%s" points="%s"/>`,
						colorOr(s.Color, blue), s.Dash, strings.Join(pts, " "))
				}
				pts = nil
			}
			for i, v := range s.Values {
				if math.IsNaN(v) || i >= n {
					flush()
					continue
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
				b.WriteString(marker(s.Marker, x(i), y(v), colorOr(s.Color, blue), s.Name+", "+ch.Labels[i]+" : "+tickLabel(v, 0)))
			}
			flush()
		}
	}
	// Legend: name, line style and marker, never colour alone.
	if !ch.Bars || len(ch.Series) > 1 {
		for i, s := range ch.Series {
			lx := float64(padLeft + i*legendGap + 200)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="16" x2="%.1f" y2="16" stroke="%s" stroke-width="2.5" stroke-dasharray="%s"/>`, lx, lx+24, colorOr(s.Color, blue), s.Dash)
			b.WriteString(marker(s.Marker, lx+12, 16, colorOr(s.Color, blue), ""))
			fmt.Fprintf(&b, `<text x="%.1f" y="20" font-size="%d" fill="%s">%s</text>`, lx+30, fontSize, textColor, esc(s.Name))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func colorOr(c, def string) string {
	if c == "" {
		return def
	}
	return c
}

// marker draws a point's shape, with its value as a tooltip.
func marker(shape string, x, y float64, color, title string) string {
	t := ""
	if title != "" {
		t = "<title>" + html.EscapeString(title) + "</title>"
	}
	switch shape {
	case "square":
		return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">%s</rect>`, x-markerSize, y-markerSize, 2*markerSize, 2*markerSize, color, t)
	case "diamond":
		return fmt.Sprintf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s">%s</polygon>`,
			x, y-markerSize-1, x+markerSize+1, y, x, y+markerSize+1, x-markerSize-1, y, color, t)
	}
	return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s">%s</circle>`, x, y, markerSize, color, t)
}

// tickLabel writes an axis or point value in French: integers grouped,
// small values with one decimal.
func tickLabel(v, top float64) string {
	if v == math.Trunc(v) || top >= 10 {
		return frDecimal(v, 0)
	}
	return frDecimal(v, 1)
}
