package notify

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// mailData is what every mail says, in French: the kinds differ only in
// what they put here, so one text and one HTML template render them all.
type mailData struct {
	Subject  string
	Greeting string   // "Bonjour Chloé Nord,"
	Lines    []string // paragraphs
	Facts    []fact   // "Entreprise : Boulangerie du Beffroi"
	Quote    string   // a description or a comment, as written
	Items    []item   // the digest's needs
	Action   string   // what the link does: "Voir le besoin"
	URL      string   // the link into the console
	Notes    []string // small print after the link
}

type fact struct{ Label, Value string }

type item struct{ Title, Detail, URL string }

const textBody = `{{.Greeting}}
{{range .Lines}}
{{.}}
{{end}}{{if .Facts}}
{{range .Facts}}  {{.Label}} : {{.Value}}
{{end}}{{end}}{{if .Quote}}
« {{.Quote}} »
{{end}}{{if .Items}}
{{range .Items}}- {{.Title}}{{if .Detail}} ({{.Detail}}){{end}}
  {{.URL}}
{{end}}{{end}}{{if .URL}}
{{.Action}} : {{.URL}}
{{end}}{{range .Notes}}
{{.}}
{{end}}
-- 
Réso, le réseau d'appui aux entreprises.
Ce message est envoyé automatiquement ; merci de ne pas y répondre.
`

const htmlBody = `<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #1e1e1e; line-height: 1.5; max-width: 40em;">
<p>{{.Greeting}}</p>
{{range .Lines}}<p>{{.}}</p>
{{end}}{{if .Facts}}<table style="border-collapse: collapse;">
{{range .Facts}}<tr><th style="text-align: left; padding: 2px 12px 2px 0;">{{.Label}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
{{end}}{{if .Quote}}<blockquote style="border-left: 3px solid #000091; margin: 1em 0; padding-left: 1em; white-space: pre-wrap;">{{.Quote}}</blockquote>
{{end}}{{if .Items}}<ul>
{{range .Items}}<li><a href="{{.URL}}">{{.Title}}</a>{{if .Detail}} ({{.Detail}}){{end}}</li>
{{end}}</ul>
{{end}}{{if .URL}}<p><a href="{{.URL}}" style="display: inline-block; background: #000091; color: #ffffff; padding: 8px 16px; text-decoration: none;">{{.Action}}</a></p>
<p style="font-size: small;">Ou copiez ce lien : {{.URL}}</p>
{{end}}{{range .Notes}}<p style="font-size: small;">{{.}}</p>
{{end}}<hr>
<p style="font-size: small; color: #666666;">Réso, le réseau d'appui aux entreprises.<br>Ce message est envoyé automatiquement ; merci de ne pas y répondre.</p>
</body>
</html>
`

var (
	textTmpl = texttemplate.Must(texttemplate.New("text").Parse(textBody))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(htmlBody))
)

// render writes d as plain text and HTML.
func render(d mailData) (text, html string, err error) {
	var tb, hb strings.Builder
	if err := textTmpl.Execute(&tb, d); err != nil {
		return "", "", err
	}
	if err := htmlTmpl.Execute(&hb, d); err != nil {
		return "", "", err
	}
	return tb.String(), hb.String(), nil
}
