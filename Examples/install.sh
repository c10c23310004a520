#!/bin/sh
# Builds modelroute with the Swift standard library and Foundation linked in, and
# installs it, its completions and its man page under PREFIX (default: ~/.local).
# The installed binary needs only the C library (and libcurl4 for https calls), so it
# runs on machines without the Swift toolchain, and it starts faster (no Swift
# libraries for the dynamic loader to bind).
#
#   Examples/install.sh            # into ~/.local
#   Examples/install.sh /usr/local # needs write access there
set -eu
prefix="${1:-$HOME/.local}"
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --build-path .build-static --product modelroute
binary=.build-static/release/modelroute
mkdir -p "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
    "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
install -m 755 "$binary" "$prefix/bin/modelroute"
"$prefix/bin/modelroute" help --man > "$prefix/share/man/man1/modelroute.1"
"$prefix/bin/modelroute" completions bash > "$prefix/share/bash-completion/completions/modelroute"
"$prefix/bin/modelroute" completions zsh > "$prefix/share/zsh/site-functions/_modelroute"
"$prefix/bin/modelroute" completions fish > "$prefix/share/fish/vendor_completions.d/modelroute.fish"
echo "installed $prefix/bin/modelroute ($("$prefix/bin/modelroute" --version))"
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "note: $prefix/bin is not on your PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
