#!/usr/bin/env bash
# Static checks of template.yaml, for CI and for developers (docs/testing-offline.md):
#   1. sam validate --lint          (SAM's own validation plus cfn-lint)
#   2. cfn-lint template.yaml       (cfn-lint validates SAM resources against SAM schemas)
#   3. aws-sam-translator transform, then cfn-lint on the generated CloudFormation
#      (catches limits on generated resources that 1 and 2 miss, e.g. retry attempts)
# No AWS credentials and no network are needed.
#
# Tools: $SAM, $CFN_LINT and $TRANSLATOR_PYTHON when set (the Makefile sets the
# first two); otherwise the SAM CLI venv at .sam-venv/ (sam, and the python that
# has aws-sam-translator), else `sam` and a python with samtranslator on PATH;
# cfn-lint from .venv/, else .sam-venv/, else PATH. A missing tool is an error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
template="${1:-template.yaml}"

first_executable() {
  local candidate
  for candidate in "$@"; do
    if [[ "$candidate" == */* ]]; then
      [[ -x "$candidate" ]] && { echo "$candidate"; return 0; }
    elif command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

# A tool named in the environment is used as given: no silent fallback.
if [[ -n "${SAM:-}" ]]; then sam_candidates=("$SAM"); else sam_candidates=(.sam-venv/bin/sam sam); fi
if [[ -n "${CFN_LINT:-}" ]]; then
  lint_candidates=("$CFN_LINT")
else
  lint_candidates=(.venv/bin/cfn-lint .sam-venv/bin/cfn-lint cfn-lint)
fi
if [[ -n "${TRANSLATOR_PYTHON:-}" ]]; then
  python_candidates=("$TRANSLATOR_PYTHON")
else
  python_candidates=(.sam-venv/bin/python .venv/bin/python python3)
fi

sam_bin="$(first_executable "${sam_candidates[@]}")" \
  || { echo "check-template: SAM CLI not found (${sam_candidates[*]})" >&2; exit 1; }
cfn_lint="$(first_executable "${lint_candidates[@]}")" \
  || { echo "check-template: cfn-lint not found (${lint_candidates[*]})" >&2; exit 1; }
translator_python=""
for candidate in "${python_candidates[@]}"; do
  python_bin="$(first_executable "$candidate")" || continue
  if "$python_bin" -c "import samtranslator" 2>/dev/null; then
    translator_python="$python_bin"
    break
  fi
done
[[ -n "$translator_python" ]] || {
  echo "check-template: no python with aws-sam-translator (${python_candidates[*]})" >&2
  exit 1
}

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

echo "== sam validate --lint ($sam_bin)"
"$sam_bin" validate --lint --template-file "$template"

echo "== cfn-lint $template ($cfn_lint)"
"$cfn_lint" "$template"

echo "== aws-sam-translator transform ($translator_python), then cfn-lint"
"$translator_python" scripts/sam_transform.py "$template" > "$workdir/transformed.json"
"$cfn_lint" "$workdir/transformed.json"

echo "== cfn-lint forwarder/template.yaml"
"$cfn_lint" forwarder/template.yaml

# Companion stacks (deployed in other accounts), each linted like the main template.
checkov_files=(-f "$template" -f forwarder/template.yaml)
for companion in companions/*/template.yaml; do
  [[ -e "$companion" ]] || continue
  checkov_files+=(-f "$companion")
  echo "== sam validate --lint $companion"
  "$sam_bin" validate --lint --template-file "$companion"
  echo "== cfn-lint $companion"
  "$cfn_lint" "$companion"
done

# checkov: every suppression is in the resource's Metadata with its reason
# (tests/template/test_template_shape.py checks that each one has a comment).
checkov_bin="${CHECKOV:-.checkov-venv/bin/checkov}"
[[ -x "$checkov_bin" ]] || { echo "check-template: checkov not found ($checkov_bin)" >&2; exit 1; }
echo "== checkov ($checkov_bin)"
BC_SKIP_MAPPING=TRUE "$checkov_bin" --framework cloudformation --compact --quiet --skip-download \
  "${checkov_files[@]}"

echo "check-template: OK"
