#!/usr/bin/env bash
# The module table and dependency picture of the README, made from the build itself: the <modules> of the root
# pom.xml, each module's <description> and its polyv-* <dependency> entries (main scope: solid arrows; test
# scope, test-jars included: listed in the table, dotted arrows to test-support only, to keep the picture readable).
#
#   scripts/module-graph.sh            # prints the Markdown table and the Mermaid graph
#   scripts/module-graph.sh --update   # rewrites the block between <!-- modules:begin --> and <!-- modules:end --> in README.md
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

modules=$(sed -n 's:.*<module>\(.*\)</module>.*:\1:p' pom.xml)

# "name scope" lines for a module's polyv dependencies (scope: main or test), without duplicates
deps() {
    tr -d '\n' < "$1/pom.xml" | sed 's:</dependency>:</dependency>\n:g' | grep '</dependency>' | sed 's:.*<dependency>::' \
        | grep '<groupId>ai\.polyv</groupId>' \
        | awk '{ name = $0; sub(/.*<artifactId>polyv-/, "", name); sub(/<.*/, "", name)
                 print name, ($0 ~ /<scope>test<\/scope>/) ? "test" : "main" }' | sort -u  || true
}

render() {
    echo "| module | what it holds | depends on (main) | tests also use |"
    echo "|---|---|---|---|"
    for m in $modules; do
        desc=$(tr -d '\n' < "$m/pom.xml" | grep -o '<description>[^<]*' | head -1 | sed 's/<description>//; s/&lt;/</g; s/&gt;/>/g; s/  */ /g; s/|/\\|/g')
        main=$(deps "$m" | awk '$2 == "main" { printf "%s`%s`", (n++ ? ", " : ""), $1 }')
        test=$(deps "$m" | awk '$2 == "test" { print $1 }' | sort -u | awk '{ printf "%s`%s`", (n++ ? ", " : ""), $1 }')
        echo "| \`$m/\` | $desc | ${main:-none} | ${test:-none} |"
    done
    echo
    echo '```mermaid'
    echo 'graph BT'
    echo '  test_support[test-support]'
    for m in $modules; do
        deps "$m" | while read -r d scope; do
            if [ "$scope" = main ]; then echo "  $m --> $d"
            elif [ "$d" = test-support ]; then echo "  $m -.-> $d"
            fi
        done
    done | sed 's/-support/_support/g'
    echo '```'
}

if [ "${1:-}" = "--update" ]; then
    out=$(render)
    awk -v block="$out" '
        /<!-- modules:begin -->/ { print; print block; skip = 1; next }
        /<!-- modules:end -->/ { skip = 0 }
        !skip { print }' README.md > README.md.tmp
    mv README.md.tmp README.md
    echo "README.md: module block rewritten"
else
    render
fi
