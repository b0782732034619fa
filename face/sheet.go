package face

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"io"
	"time"
)

// Fact is one labelled line of a sheet, e.g. {"氏名 Name", "黒桐　幹也"}.
type Fact struct {
	Label string
	Value string
}

// Sheet is the counter's paper record of one card check.
type Sheet struct {
	// Title heads the page; empty gives the default bilingual title.
	Title string
	// Photo is the decoded card photo (Decode); nil leaves it out.
	Photo image.Image
	// PhotoVerified says whether the card-face signature covering the photo
	// verified; an unverified photo is labelled so on the sheet.
	PhotoVerified bool
	// Facts are printed in order. Put only verified facts here, or say in
	// the label what is not verified (e.g. the expiry date, which no
	// signature covers).
	Facts []Fact
	// Verdict is the verdict line as shown on screen, e.g.
	// "判定 Verdict: 真正 GENUINE — all 9 checks passed".
	Verdict string
	// Notes are printed under the verdict, one paragraph each.
	Notes []string
	// Checked is when the card was checked; zero leaves it out.
	Checked time.Time
}

const defaultSheetTitle = "マイナンバーカード 確認記録 / Individual Number Card check record"

var sheetTemplate = template.Must(template.New("sheet").Parse(`<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
@page { size: A4; margin: 18mm; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; font-size: 11pt; color: #000; }
h1 { font-size: 15pt; border-bottom: 1px solid #000; padding-bottom: 4pt; }
.card { display: flex; gap: 12mm; align-items: flex-start; }
.photo { text-align: center; font-size: 9pt; }
.photo img { width: 35mm; image-rendering: pixelated; border: 1px solid #000; }
table { border-collapse: collapse; }
th { text-align: left; padding: 2pt 8pt 2pt 0; white-space: nowrap; vertical-align: top; }
td { padding: 2pt 0; }
.verdict { margin-top: 8mm; font-weight: bold; font-size: 12pt; border: 1px solid #000; padding: 4pt; }
.note { font-size: 9pt; }
.sign { margin-top: 14mm; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="card">
{{- if .PhotoURL}}
<div class="photo"><img src="{{.PhotoURL}}" alt="顔写真 Photo"><br>顔写真 Photo{{if not .PhotoVerified}}<br><strong>署名未検証 signature not verified</strong>{{end}}</div>
{{- end}}
<table>
{{- range .Facts}}
<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>
{{- end}}
{{- if .Checked}}
<tr><th>確認日時 Checked at</th><td>{{.Checked}}</td></tr>
{{- end}}
</table>
</div>
<p class="verdict">{{.Verdict}}</p>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
<p class="sign">確認者 Checked by: ______________________</p>
</body>
</html>
`))

// WriteSheet writes s as one self-contained HTML page for printing: the
// photo is inlined as a PNG data: URL and nothing is fetched from anywhere.
// Every text is HTML-escaped.
func WriteSheet(w io.Writer, s Sheet) error {
	data := struct {
		Title         string
		PhotoURL      template.URL
		PhotoVerified bool
		Facts         []Fact
		Verdict       string
		Notes         []string
		Checked       string
	}{Title: s.Title, PhotoVerified: s.PhotoVerified, Facts: s.Facts, Verdict: s.Verdict, Notes: s.Notes}
	if data.Title == "" {
		data.Title = defaultSheetTitle
	}
	if !s.Checked.IsZero() {
		data.Checked = s.Checked.Format("2006-01-02 15:04:05 MST")
	}
	if s.Photo != nil {
		var buf bytes.Buffer
		if err := EncodePNG(&buf, s.Photo); err != nil {
			return err
		}
		// A data: URL we made from our own PNG bytes; base64 has no
		// characters that could leave the attribute.
		data.PhotoURL = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	}
	if err := sheetTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("face: sheet: %w", err)
	}
	return nil
}
