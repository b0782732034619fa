#!/usr/bin/env python3
"""Writes the hand-made PDFs of the corpus (classic xref tables):
classic.pdf (two pages) and acroform.pdf (a text field and an empty
signature field). Offsets are computed, so the xref is exact."""
import sys

def pdf(objs, version="1.4"):
    out = bytearray(b"%PDF-" + version.encode() + b"\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f\r\n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n\r\n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 2 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(out)

def stream(data):
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

page1 = b"BT /F1 24 Tf 72 720 Td (Contract: the parties agree.) Tj ET"
page2 = b"BT /F1 24 Tf 72 720 Td (Page two.) Tj ET"
classic = [
    b"<< /Type /Catalog /Pages 3 0 R >>",
    b"<< /Producer (mynakit corpus gen.py) /Title (classic) >>",
    b"<< /Type /Pages /Kids [4 0 R 5 0 R] /Count 2 /MediaBox [0 0 595 842] /Resources << /Font << /F1 8 0 R >> >> >>",
    b"<< /Type /Page /Parent 3 0 R /Contents 6 0 R >>",
    b"<< /Type /Page /Parent 3 0 R /Contents 7 0 R >>",
    stream(page1),
    stream(page2),
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]
open("classic.pdf", "wb").write(pdf(classic))

form = [
    b"<< /Type /Catalog /Pages 3 0 R /AcroForm << /Fields [7 0 R 8 0 R] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 6 0 R >> >> >> >>",
    b"<< /Producer (mynakit corpus gen.py) /Title (form) >>",
    b"<< /Type /Pages /Kids [4 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
    b"<< /Type /Page /Parent 3 0 R /Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R] >>",
    stream(b"BT /F1 18 Tf 72 760 Td (Application form) Tj ET"),
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (applicant) /V (Kokutou Mikiya) /Rect [72 700 300 720] /P 4 0 R /F 4 >>",
    b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (ApplicantSignature) /Rect [72 600 272 650] /P 4 0 R /F 4 >>",
]
open("acroform.pdf", "wb").write(pdf(form, "1.7"))
