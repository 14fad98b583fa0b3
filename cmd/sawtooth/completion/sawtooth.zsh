#compdef sawtooth
# zsh completion for sawtooth: commands, flags, shipped scenario names,
# variant names (--variant), settable keys (--set), files and directories.
# Install: sawtooth completion zsh > "${fpath[1]}/_sawtooth"
# or for this shell only (after compinit): source <(sawtooth completion zsh)
_sawtooth() {
    local -a lines cands
    local line files=0 dirs=0
    lines=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    for line in $lines; do
        case $line in
        :files) files=1 ;;
        :dirs) dirs=1 ;;
        ?*) cands+=("$line") ;;
        esac
    done
    (( ${#cands} )) && compadd -Q -- $cands
    (( files )) && _files
    (( dirs )) && _files -/
    return 0
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _sawtooth "$@"
else
    compdef _sawtooth sawtooth
fi
