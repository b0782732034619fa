#!/bin/sh
# Rebuilds the unsigned PDFs of the corpus (see README.md). Needs python3,
# qpdf and ghostscript. The already-signed files are made by the tests
# (TestCorpusSignedFiles with -update).
set -e
cd "$(dirname "$0")"
python3 gen.py
qpdf --object-streams=generate classic.pdf objstm.pdf
qpdf --linearize classic.pdf linearized.pdf
qpdf --object-streams=generate --force-version=2.0 acroform.pdf pdf20.pdf
ps2pdf -dCompatibilityLevel=1.5 ps.ps ghostscript.pdf
