# bats-support and bats-assert, loaded without a fork. Load it with `load ../assertions` (or
# `load assertions` from tests/).
#
# bats sources a suite's libraries again for every test, and each library's load.bash finds its
# files with "$(dirname "${BASH_SOURCE[0]}")": 15 forks, about 0.1 s per test (a quarter of the
# suite's time went there). kit_source_bats_library reads the same load.bash and sources the
# files it names by their path: the same code in the same order, without the forks. Should a
# library's load.bash ever be shaped otherwise, the libraries are loaded the usual way.

kit_source_bats_library() {
    local name=$1 dir line
    for dir in ${BATS_LIB_PATH//:/ } /usr/lib/bats /usr/local/lib/bats; do
        [ -f "$dir/$name/load.bash" ] && break
    done
    [ -f "$dir/$name/load.bash" ] || return 1
    while IFS= read -r line; do
        [[ $line =~ ^source\ \"\$\(dirname\ \"\$\{BASH_SOURCE\[0\]\}\"\)/([^\"]+)\"$ ]] || continue
        # shellcheck disable=SC1090
        source "$dir/$name/${BASH_REMATCH[1]}" || return 1
    done <"$dir/$name/load.bash"
}

kit_source_bats_library bats-support && kit_source_bats_library bats-assert &&
    declare -F fail assert_success assert_line >/dev/null || {
    bats_load_library bats-support
    bats_load_library bats-assert
}
