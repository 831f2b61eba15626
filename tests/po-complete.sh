#!/bin/sh
# po-complete.sh SRCDIR: every translatable string of the sources (as
# po/POTFILES.in lists them) has a translation, not fuzzy, in every
# catalogue of po/LINGUAS (TAP).  The template is made afresh here, so a
# string added without running po/update.sh is caught too.
set -u
SRC=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$SRC/tests/tap.sh"
cd "$SRC" || exit 1

# every source with strings is listed
for f in ui/*.c resources/ui/*.ui; do
  if grep -q -e '_ (' -e '_("' -e 'N_ (' -e 'translatable="yes"' "$f"; then
    grep -qx "$f" po/POTFILES.in && ok "$f in POTFILES.in" || nok "$f in POTFILES.in"
  fi
done

# the template, as meson's glib preset makes it
sed 's/#.*//; /^$/d' po/POTFILES.in >"$T/files"
if xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
     --keyword=NC_:1c,2 --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 \
     --keyword=g_dpgettext2:2c,3 --files-from="$T/files" -o "$T/all.pot" 2>"$T/err"; then
  ok "xgettext"
else
  nok "xgettext"; sed 's/^/# /' "$T/err"
fi

for lang in $(sed 's/#.*//' po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$T/all.pot" -o "$T/$lang.po" 2>"$T/err" \
    || { nok "$lang: msgmerge"; sed 's/^/# /' "$T/err"; continue; }
  msgfmt --check -o /dev/null "po/$lang.po" 2>"$T/err" && ok "$lang: msgfmt --check" \
    || { nok "$lang: msgfmt --check"; sed 's/^/# /' "$T/err"; }
  msgattrib --untranslated --no-obsolete "$T/$lang.po" | grep '^msgid ' | grep -v '^msgid ""$' >"$T/untranslated"
  msgattrib --only-fuzzy --no-obsolete "$T/$lang.po" | grep '^msgid ' | grep -v '^msgid ""$' >"$T/fuzzy"
  if [ -s "$T/untranslated" ] || [ -s "$T/fuzzy" ]; then
    nok "$lang: every string translated (run po/update.sh, then translate)"
    sed 's/^/# untranslated: /' "$T/untranslated"; sed 's/^/# fuzzy: /' "$T/fuzzy"
  else
    ok "$lang: every string translated"
  fi
done
echo "1..$n"
[ "$fails" -eq 0 ]
