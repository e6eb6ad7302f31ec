#!/usr/bin/env bash
# Chromium for the report-rendering test (tests/matcher/test_cohort_cli.py). Sourced by .ci/run
# as root; idempotent and quiet: installs Debian's chromium only when it is missing.
if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
