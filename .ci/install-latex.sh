#!/usr/bin/env bash
# Install a LaTeX engine for the tests that compile `gapcheck latex --standalone`
# output (tests/cli/test_latex_cli.py). Does nothing when pdflatex (or tectonic)
# is already on PATH, so running it twice is harmless. Debian/Ubuntu only:
# texlive-latex-base (pdflatex, amsmath), texlive-latex-recommended and
# texlive-latex-extra (standalone, breqn-free packages used by the documents),
# latexmk. Where apt-get is missing or fails, say so and exit 0: the compile
# tests then skip with that reason.
set -uo pipefail

if command -v pdflatex >/dev/null 2>&1 || command -v tectonic >/dev/null 2>&1; then
    echo "install-latex: a LaTeX engine is already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-latex: apt-get not found; install pdflatex or tectonic by hand (LaTeX compile tests will skip)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "install-latex: not root and no sudo; LaTeX compile tests will skip" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
PKGS="texlive-latex-base texlive-latex-recommended texlive-latex-extra latexmk"
if $SUDO apt-get update -qq >/dev/null 2>&1 \
   && $SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>&1; then
    echo "install-latex: installed $PKGS"
else
    echo "install-latex: apt-get install of $PKGS failed; LaTeX compile tests will skip" >&2
fi
exit 0
