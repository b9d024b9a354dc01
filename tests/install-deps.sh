#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian/Ubuntu machine:
#   - system packages (real servers the suite starts on loopback: sshd, nginx, PostgreSQL,
#     Dovecot for the mail intake's IMAP (started with its own config, never the system one);
#     real logrotate to compare the built-in rotation with; real sudo for the sudo path of
#     the SSH connection; Chromium to render reports; zsh and fish for shell completion);
#   - runbook itself with its test extras, editable.
# As root it installs missing packages with apt-get; as another user it says what is missing
# (the tests that need those programs then skip with a reason).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(openssh-server openssh-client logrotate nginx-light postgresql procps iproute2 busybox sudo chromium
          dovecot-imapd zsh fish)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "missing system packages (tests needing them will skip): ${missing[*]}" >&2
    fi
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'
