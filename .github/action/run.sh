#!/usr/bin/env bash
# The steps of action.yml (see there), runnable outside GitHub for tests:
#   run.sh install   cargo install dopt from DOPT_REPOSITORY at DOPT_VERSION
#                    (DOPT_INSTALL_DRY_RUN=1 prints the command instead)
#   run.sh bench     dopt bench over DOPT_BENCH with DOPT_BENCH_ARGS (report in
#                    the step summary, JSON path in $GITHUB_OUTPUT as bench-json)
#   run.sh check     dopt check over DOPT_PATHS: annotations on stdout,
#                    a summary in $GITHUB_STEP_SUMMARY, `findings` (and
#                    `sarif-file`) in $GITHUB_OUTPUT, SARIF when DOPT_SARIF=true
# Exit status of `check`: 0 no findings (or DOPT_FAIL_ON_FINDINGS=false),
# 1 findings, 2 a file could not be read or parsed, or a usage error.
set -euo pipefail

step=${1:-}
case "$step" in
install)
    if [ -z "${DOPT_REPOSITORY:-}" ]; then
        echo "::error title=dopt::no repository to install dopt from (input: repository)"
        exit 2
    fi
    cmd=(cargo install --locked --git "$DOPT_REPOSITORY")
    # `--rev` takes anything git resolves: a commit, a tag or a branch.
    if [ -n "${DOPT_VERSION:-}" ]; then
        cmd+=(--rev "$DOPT_VERSION")
    fi
    cmd+=(dopt)
    if [ "${DOPT_INSTALL_DRY_RUN:-}" = 1 ]; then
        printf '%s\n' "${cmd[*]}"
        exit 0
    fi
    # The SARIF log names the repository dopt was installed from as the
    # tool's informationUri (and the rules' helpUri).
    case "$DOPT_REPOSITORY" in
    http://* | https://*) export DOPT_HOMEPAGE="${DOPT_REPOSITORY%.git}" ;;
    esac
    "${cmd[@]}"
    dopt --version
    ;;
check)
    # Word-split on purpose: paths and args are space-separated inputs.
    # shellcheck disable=SC2206
    paths=(${DOPT_PATHS:-.})
    # shellcheck disable=SC2206
    args=(${DOPT_ARGS:-})
    status=0
    dopt check --color never --format github "${args[@]}" -- "${paths[@]}" || status=$?
    json=$(dopt check --color never --format json "${args[@]}" -- "${paths[@]}" 2>/dev/null || true)
    findings=$(printf '%s\n' "$json" | grep -c '^    "code": "DOP' || true)
    errors=$(printf '%s\n' "$json" | grep -c '^    "error": true' || true)
    if [ "${DOPT_SARIF:-false}" = true ]; then
        sarif_file=${DOPT_SARIF_FILE:-dopt.sarif}
        dopt check --color never --format sarif "${args[@]}" -- "${paths[@]}" >"$sarif_file" 2>/dev/null || true
        [ -n "${GITHUB_OUTPUT:-}" ] && echo "sarif-file=$sarif_file" >>"$GITHUB_OUTPUT"
    fi
    [ -n "${GITHUB_OUTPUT:-}" ] && echo "findings=$findings" >>"$GITHUB_OUTPUT"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
        {
            echo "### dopt"
            echo
            echo "$findings finding(s); $errors file(s) could not be checked."
            if [ "$findings" -gt 0 ]; then
                echo
                echo '| rule | findings |'
                echo '|---|---|'
                printf '%s\n' "$json" | sed -n 's/^    "code": "\(DOP[0-9]*\)",$/\1/p' | sort | uniq -c |
                    awk '{ printf "| %s | %s |\n", $2, $1 }'
                echo
                echo 'Run `dopt suggest` locally to see each fix as a diff, or `dopt apply` to write the safe ones.'
            fi
        } >>"$GITHUB_STEP_SUMMARY"
    fi
    if [ "$status" = 1 ] && [ "${DOPT_FAIL_ON_FINDINGS:-true}" != true ]; then
        status=0
    fi
    exit "$status"
    ;;
bench)
    # dopt bench appends its Markdown report to $GITHUB_STEP_SUMMARY itself.
    # shellcheck disable=SC2206
    cases=(${DOPT_BENCH:-})
    # shellcheck disable=SC2206
    args=(${DOPT_BENCH_ARGS:-})
    json=${RUNNER_TEMP:-.}/dopt-bench.json
    status=0
    dopt bench --color never --json "$json" "${args[@]}" -- "${cases[@]}" || status=$?
    [ -n "${GITHUB_OUTPUT:-}" ] && echo "bench-json=$json" >>"$GITHUB_OUTPUT"
    exit "$status"
    ;;
*)
    echo "usage: run.sh install|check|bench" >&2
    exit 2
    ;;
esac
