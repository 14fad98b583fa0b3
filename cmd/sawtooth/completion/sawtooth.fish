# fish completion for sawtooth: commands, flags, shipped scenario names,
# variant names (--variant), settable keys (--set), files and directories.
# Install: sawtooth completion fish > ~/.config/fish/completions/sawtooth.fish
function __sawtooth_complete
    set -l toks (commandline -opc) (commandline -ct)
    for line in ($toks[1] __complete $toks[2..-1] 2>/dev/null)
        switch $line
            case ':files'
                __fish_complete_path (commandline -ct)
            case ':dirs'
                __fish_complete_directories (commandline -ct)
            case '*'
                echo $line
        end
    end
end
complete -c sawtooth -f -a '(__sawtooth_complete)'
