#!/usr/bin/env bats
# The kit's layers (CONTRIBUTING.md, "Layout and layers"), checked on the sources:
#   - a folder's uses.mk names exactly the folders its own files include (direct uses only; the
#     Makefile follows them transitively);
#   - a chapter's lib/ holds what that chapter uses: no lib/ header only other folders include;
#   - no library code installs a signal handler: common/children.c owns stop signals.
# (Sources only: nothing here needs a build.)

load assertions

setup() {
    cd "$KIT_ROOT" || return 1
}

# "FOLDER USED" for every folder (chapters/NN-x, exercises/NN-x, solutions/NN-x, harness/NAME)
# whose header a file of another folder includes by a relative path, once each.
include_pairs() {
    grep -rHoE '^#include "\.\./[^"]+"' --include='*.[ch]' chapters exercises solutions harness |
        grep -v '/twins/' | awk -F: '
        function folder_of(path, parts) {
            split(path, parts, "/")
            return parts[1] "/" parts[2]
        }
        {
            file = $1; include = $2
            sub(/^#include "/, "", include); sub(/"$/, "", include)
            n = split(file, parts, "/"); depth = 0
            for (i = 1; i < n; i++) stack[++depth] = parts[i]
            m = split(include, steps, "/")
            for (i = 1; i <= m; i++) {
                if (steps[i] == "..") depth--
                else if (steps[i] != ".") stack[++depth] = steps[i]
            }
            target = stack[1]
            for (i = 2; i <= depth; i++) target = target "/" stack[i]
            from = folder_of(file); to = folder_of(target)
            if (from != to) print from, to
        }' | sort -u
}

# The folders FOLDER's uses.mk names in uses_code, one a line (continuation lines joined).
listed_folders() {
    [ -f "$1/uses.mk" ] || return 0
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1/uses.mk" | sed -n 's/^uses_code *:= *//p' |
        tr -s ' \t' '\n' | grep . | sort -u
}

@test "every uses.mk names exactly the folders its files include" {
    local pairs folder included wrong=()
    pairs=$(include_pairs)
    for folder in chapters/[0-9]*/ exercises/[0-9]*/ solutions/[0-9]*/ harness/*/; do
        folder=${folder%/}
        included=$(awk -v folder="$folder" '$1 == folder { print $2 }' <<<"$pairs")
        [ "$(listed_folders "$folder")" = "$included" ] ||
            wrong+=("$folder: uses_code lists [$(listed_folders "$folder" | xargs)]," \
                "its files include [$(xargs <<<"$included")]")
    done
    [ ${#wrong[@]} -eq 0 ] || fail "$(printf '%s\n' "${wrong[@]}")"
}

@test "a chapter's lib/ holds only what the chapter itself uses" {
    local header chapter name unused=()
    for header in chapters/*/lib/*.h; do
        chapter=${header%%/lib/*}
        name=${header##*/}
        # Used when a program of the chapter or another of its lib/ files includes it.
        grep -lE "#include \"(lib/)?$name\"" "$chapter"/*.c "$chapter"/lib/*.[ch] 2>/dev/null |
            grep -qv "^${header%.h}\.[ch]$" || unused+=("$header")
    done
    [ ${#unused[@]} -eq 0 ] || fail "only other folders use: ${unused[*]}"
}

@test "no library installs a signal handler: common/children.c owns stop signals" {
    local found
    # A handler is a function given to signal() or put in a struct sigaction; SIG_DFL and
    # SIG_IGN (a child's clean slate before exec, a server that ignores SIGPIPE) are not.
    found=$(grep -nE '\bsignal *\([^,]+, *[a-z_]|\.sa_(handler|sigaction) *= *[a-z_]' \
        chapters/*/lib/*.c harness/*/*.c common/*.c | grep -v '^common/children\.c:') || true
    [ -z "$found" ] || fail "handlers installed in: $found"
}
