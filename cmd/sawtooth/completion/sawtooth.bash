# bash completion for sawtooth: commands, flags, shipped scenario names,
# variant names (--variant), settable keys (--set), files and directories.
# Install: sawtooth completion bash > ~/.local/share/bash-completion/completions/sawtooth
# or for this shell only: source <(sawtooth completion bash)
_sawtooth() {
    local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n' line
    local -a words
    local out
    out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
    COMPREPLY=()
    for line in $out; do
        case $line in
        :files) COMPREPLY+=($(compgen -f -- "$cur")) ;;
        :dirs) COMPREPLY+=($(compgen -d -- "$cur")) ;;
        *) words+=("$line") ;;
        esac
    done
    if ((${#words[@]})); then
        COMPREPLY+=($(compgen -W "${words[*]}" -- "$cur"))
    fi
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -o filenames -F _sawtooth sawtooth
