#!/usr/bin/env bash
# Notebook hygiene for notebooks/*.ipynb (they are committed without outputs).
#   bash tools/check_notebooks.sh         check: cleared, formatted, code cells type-check
#   bash tools/check_notebooks.sh --fix   clear outputs, execution counts, per-cell
#                                         metadata but tags, and language_info.version; format
# Formatting uses `deno fmt --no-config` on a copy: `deno fmt --check` reports a
# false positive on .ipynb files on a fresh cache (see toolchain notes, section 4).
# Needs /usr/bin/python3 with nbformat, and jupyter-nbconvert for the type check.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
shopt -s nullglob
nbs=(notebooks/*.ipynb)
[ ${#nbs[@]} -gt 0 ] || { echo "no notebooks in notebooks/"; exit 1; }

# clear MODE FILES...: MODE "check" lists notebooks that are not cleared, "fix" clears them.
clear_py='
import sys, nbformat
mode, paths, dirty = sys.argv[1], sys.argv[2:], 0
for p in paths:
    nb = nbformat.read(p, as_version=4)
    # The kernel records its TypeScript version: noise in diffs.
    changed = nb.metadata.get("language_info", {}).pop("version", None) is not None
    for c in nb.cells:
        meta = {k: v for k, v in c.metadata.items() if k == "tags"}
        if c.metadata != meta:
            c.metadata, changed = nbformat.NotebookNode(meta), True
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None):
            c.outputs, c.execution_count, changed = [], None, True
    if changed and mode == "fix":
        nbformat.write(nb, p)
    if changed:
        dirty += 1
        print(("cleared: " if mode == "fix" else "not cleared: ") + p)
sys.exit(1 if dirty and mode == "check" else 0)
'

if [ "${1:-}" = "--fix" ]; then
  /usr/bin/python3 -c "$clear_py" fix "${nbs[@]}" && deno fmt --no-config --quiet "${nbs[@]}"
  exit
fi

rc=0
/usr/bin/python3 -c "$clear_py" check "${nbs[@]}" || rc=1
tmp=$(mktemp -d)
cp "${nbs[@]}" "$tmp"/ && deno fmt --no-config --quiet "$tmp" || rc=1
for f in "${nbs[@]}"; do
  cmp -s "$f" "$tmp/$(basename "$f")" || { echo "not formatted: $f"; rc=1; }
done
rm -rf "$tmp"
# The kernel does not type-check: export each notebook beside itself (relative
# imports resolve; *.nbcheck.ts is git-ignored) and deno check the scripts.
scripts=()
for nb in "${nbs[@]}"; do
  ts="${nb%.ipynb}.$$.nbcheck.ts"
  { echo '/// <reference lib="deno.unstable" />'
    jupyter-nbconvert --to script --stdout "$nb" 2>/dev/null; } >"$ts" || rc=1
  scripts+=("$ts")
done
deno check --frozen "${scripts[@]}" || rc=1
rm -f "${scripts[@]}"
[ $rc -eq 0 ] || echo "notebooks: fix with 'bash tools/check_notebooks.sh --fix' (type errors by hand)"
exit $rc
