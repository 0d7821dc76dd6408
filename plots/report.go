package plots

import (
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"io"
)

// Report is the content of the HTML report of a run.
type Report struct {
	// Title heads the page.
	Title string
	// Meta lists key–value facts of the run (formula, data, chains, …).
	Meta [][2]string
	// Warnings are shown highlighted under the facts.
	Warnings []string
	// Config is the config file's text, shown verbatim ("" for none).
	Config string
	// Tables are shown in order (priors, summary, comparison, …).
	Tables []*Table
	// Figures are embedded in order.
	Figures []Figure
	// Notes are shown at the end (e.g. plots that could not be made).
	Notes []string
}

// Table is a table of the report.
type Table struct {
	// Title heads the table; Caption is a line of text under the title.
	Title, Caption string
	Header         []string
	Rows           [][]Cell
	// Collapsed tables start folded (for long ones).
	Collapsed bool
}

// Cell is one table cell; Warn highlights it.
type Cell struct {
	Text string
	Warn bool
}

// Figure is an image embedded in the report.
type Figure struct {
	Title, Caption string
	Format         Format
	Data           []byte
}

// imgTag returns the figure as an <img> element with a data: URI. It is
// built by hand because html/template would write every '+' of the
// base64 text as "&#43;".
func (f Figure) imgTag() (template.HTML, error) {
	var mime string
	switch f.Format {
	case PNG:
		mime = "image/png"
	case SVG:
		mime = "image/svg+xml"
	default:
		return "", fmt.Errorf("report: figure %q: unknown format %q", f.Title, f.Format)
	}
	// Base64 text holds no markup; the title is escaped.
	return template.HTML(`<img alt="` + html.EscapeString(f.Title) + `" src="data:` + mime + ";base64," +
		base64.StdEncoding.EncodeToString(f.Data) + `">`), nil
}

// reportTemplate is the page: inline CSS, no scripts, no external
// resources.
const reportTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1300px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
td.warn { background: #ffd6d6; color: #900; font-weight: bold; }
tr.warn td:first-child { background: #fff0f0; }
ul.warnings li { color: #900; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.7em; overflow-x: auto; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
.meta td:first-child { font-weight: bold; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Meta}}<table class="meta">{{range .Meta}}<tr><td>{{index . 0}}</td><td style="text-align:left">{{index . 1}}</td></tr>{{end}}</table>{{end}}
{{if .Warnings}}<h2>Warnings</h2><ul class="warnings">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Config}}<h2>Config</h2><pre>{{.Config}}</pre>{{end}}
{{range .Tables}}<h2>{{.Title}}</h2>{{if .Caption}}<p>{{.Caption}}</p>{{end}}
{{if .Collapsed}}<details><summary>{{len .Rows}} rows</summary>{{end}}
<table><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr{{if rowWarn .}} class="warn"{{end}}>{{range .}}<td{{if .Warn}} class="warn"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table>{{if .Collapsed}}</details>{{end}}
{{end}}
{{if .Figures}}<h2>Plots</h2>{{range .Figures}}<figure><h3>{{.Title}}</h3>{{.Img}}{{if .Caption}}<figcaption>{{.Caption}}</figcaption>{{end}}</figure>
{{end}}{{end}}
{{if .Notes}}<h2>Notes</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body>
</html>
`

// WriteHTML writes r as one self-contained HTML page: styles inline,
// images as base64 data: URIs, no scripts and no external resources.
func WriteHTML(w io.Writer, r *Report) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"rowWarn": func(cells []Cell) bool {
			for _, c := range cells {
				if c.Warn {
					return true
				}
			}
			return false
		},
	}).Parse(reportTemplate)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	type fig struct {
		Title, Caption string
		Img            template.HTML
	}
	figs := make([]fig, len(r.Figures))
	for i, f := range r.Figures {
		u, err := f.imgTag()
		if err != nil {
			return err
		}
		figs[i] = fig{f.Title, f.Caption, u}
	}
	data := struct {
		*Report
		Figures []fig
	}{r, figs}
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
