#!/usr/bin/env bash
# Renders Faultline's observability templates for one profile.
#
#   render.sh [PROFILE] OUTDIR [KEY=VALUE ...]
#     PROFILE  default | ci   (default: default)
#     OUTDIR   created if missing; receives prometheus.yml, alerts.rules.yml, alertmanager.yml,
#              alerts.rules.test.yml and a copy of queries.yaml
#     KEY=VALUE overrides, applied last (e.g. LOAD_METRICS_ADDR=10.77.0.1:9464)
#
# Values: defaults.env, then ci.env (profile ci), then the command-line overrides.
#
# Placeholder syntax (all templates):  {{NAME}}  - NAME is [A-Z][A-Z0-9_]*, no spaces.
#   Prometheus/Go templates such as {{ $value }} or {{ $labels.instance }} have spaces or '$'
#   and are left alone.
# Test template only (alerts.rules.test.yml.tmpl) also uses integer arithmetic:
#   {{A+B-7}}  - a left-to-right sum of NAMEs and integers; every NAME must hold an integer.
#   For every NAME_FOR=Ns a derived NAME_FOR_S=N is defined for that purpose.
# A reimplementation (e.g. the Swift env driver) needs only plain {{NAME}} substitution for
# prometheus.yml.tmpl, alerts.rules.yml.tmpl and alertmanager.yml.tmpl.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "render.sh: $*" >&2; exit 2; }

profile=default
case "${1:-}" in default|ci) profile="$1"; shift ;; esac
[[ $# -ge 1 ]] || die "usage: render.sh [default|ci] OUTDIR [KEY=VALUE ...]"
out="$1"; shift
mkdir -p "$out"

kv="$(mktemp)"; trap 'rm -f "$kv"' EXIT
{
  grep -E '^[A-Z][A-Z0-9_]*=' "$here/defaults.env" || true
  [[ $profile == ci ]] && { grep -E '^[A-Z][A-Z0-9_]*=' "$here/ci.env" || true; }
  for a in "$@"; do
    [[ $a =~ ^[A-Z][A-Z0-9_]*= ]] || die "bad override '$a' (want KEY=VALUE)"
    printf '%s\n' "$a"
  done
} >"$kv.raw"
# Last assignment wins; derive NAME_FOR_S; validate formats.
awk -F= '
  { k = $1; v = substr($0, length(k) + 2); if (!(k in val)) order[++n] = k; val[k] = v }
  END {
    bad = 0
    for (i = 1; i <= n; i++) {
      k = order[i]; v = val[k]; print k "=" v
      if (k ~ /_FOR$/) {
        if (v !~ /^[0-9]+s$/) { print "render.sh: " k "=" v ": must be whole seconds, e.g. 30s" > "/dev/stderr"; bad = 1 }
        else print k "_S=" substr(v, 1, length(v) - 1)
      }
      if (k ~ /_(PCT|SECONDS)$/ && v !~ /^[0-9]+$/) { print "render.sh: " k "=" v ": must be an integer" > "/dev/stderr"; bad = 1 }
    }
    if (val["REPL_LAG_CRIT_SECONDS"] + 0 <= val["REPL_LAG_WARN_SECONDS"] + 1) {
      print "render.sh: REPL_LAG_CRIT_SECONDS must exceed REPL_LAG_WARN_SECONDS + 1" > "/dev/stderr"; bad = 1
    }
    exit bad
  }' "$kv.raw" >"$kv" || { rm -f "$kv.raw"; die "invalid values"; }
rm -f "$kv.raw"

render() { # template -> output
  awk -v kvfile="$kv" -v tmpl="$(basename "$1")" '
    BEGIN {
      while ((getline line < kvfile) > 0) { i = index(line, "="); val[substr(line, 1, i - 1)] = substr(line, i + 1) }
      bad = 0
    }
    function fail(msg) { print "render.sh: " tmpl ":" NR ": " msg > "/dev/stderr"; bad = 1; return "" }
    function term(t) {
      if (t ~ /^[0-9]+$/) return t + 0
      if (!(t in val)) return fail("unknown placeholder " t)
      if (val[t] !~ /^-?[0-9]+$/) return fail(t "=" val[t] " is not an integer (arithmetic)")
      return val[t] + 0
    }
    function ev(e,    total, sign, tok, c, j) {
      if (e !~ /[A-Z]/) return "{{" e "}}"
      if (e !~ /[-+]/) { if (!(e in val)) return fail("unknown placeholder " e); return val[e] }
      total = 0; sign = 1; tok = ""
      for (j = 1; j <= length(e) + 1; j++) {
        c = (j <= length(e)) ? substr(e, j, 1) : "+"
        if (c == "+" || c == "-") {
          if (tok == "") return fail("bad expression " e)
          total += sign * term(tok); tok = ""; sign = (c == "+") ? 1 : -1
        } else tok = tok c
      }
      return total
    }
    {
      s = $0; o = ""
      while (match(s, /[{][{][A-Z0-9_+-]+[}][}]/)) {
        o = o substr(s, 1, RSTART - 1) ev(substr(s, RSTART + 2, RLENGTH - 4))
        s = substr(s, RSTART + RLENGTH)
      }
      print o s
    }
    END { exit bad }' "$1"
}

for t in "$here"/*.tmpl; do
  name="$(basename "$t" .tmpl)"
  render "$t" >"$out/$name.new" || { rm -f "$out/$name.new"; die "failed to render $(basename "$t")"; }
  mv "$out/$name.new" "$out/$name"
done
cp "$here/queries.yaml" "$out/queries.yaml"
echo "render.sh: profile $profile -> $out"
