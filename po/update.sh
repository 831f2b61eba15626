#!/bin/sh
# Regenerates po/pal-studio.pot from the sources listed in po/POTFILES.in and
# merges it into every translation named in po/LINGUAS, using meson's gettext
# targets of a build directory; then prints how much of each is translated.
#
#   po/update.sh [BUILDDIR]      (default: build)
#
# New or changed strings come out untranslated or fuzzy in the .po files:
# translate them, remove the "fuzzy" flags, and run the script again to check.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=${1:-build}

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" >/dev/null
fi
meson compile -C "$builddir" pal-studio-pot pal-studio-update-po

status=0
for lang in $(sed 's/#.*//' po/LINGUAS); do
  printf '%s: ' "$lang"
  msgfmt --check --statistics -o /dev/null "po/$lang.po" 2>&1 || status=1
done
exit $status
