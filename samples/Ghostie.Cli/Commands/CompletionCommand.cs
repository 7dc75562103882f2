using System.CommandLine;

namespace Ghostie.Cli.Commands;

/// <summary>
/// <c>ghostie completion bash|zsh|fish</c>: prints a script that completes ghostie's commands and options in that
/// shell. Each script asks ghostie itself through System.CommandLine's <c>[suggest:POSITION]</c> directive
/// (<c>ghostie "[suggest:10]" "ghostie sy"</c> prints <c>sync</c>), so completion always matches the installed version.
/// </summary>
internal static class CompletionCommand
{
    public static readonly string[] Shells = ["bash", "zsh", "fish"];

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish." };
        shell.AcceptOnlyFromAmong(Shells);
        var command = new Command("completion", "Print a shell completion script for bash, zsh or fish (see docs/cli.md, \"Shell completion\").") { shell };
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.Write(Script(parse.GetValue(shell)!));
            return 0;
        });
        return command;
    }

    /// <summary>The script for <paramref name="shell"/> (one of <see cref="Shells"/>).</summary>
    public static string Script(string shell) => shell switch
    {
        "bash" => Bash,
        "zsh" => Zsh,
        "fish" => Fish,
        _ => throw new ArgumentOutOfRangeException(nameof(shell), shell, "bash, zsh or fish"),
    };

    // Load with: source <(ghostie completion bash)   (or save it under ~/.local/share/bash-completion/completions/ghostie)
    private const string Bash = """
        # bash completion for ghostie: source <(ghostie completion bash)
        _ghostie_complete()
        {
            local IFS=$'\n'
            local suggestions
            suggestions=$(ghostie "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)
            COMPREPLY=( $(compgen -W "${suggestions}" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _ghostie_complete ghostie

        """;

    // Load with: source <(ghostie completion zsh)   (or save it as _ghostie in a folder of $fpath)
    private const string Zsh = """
        #compdef ghostie
        # zsh completion for ghostie: source <(ghostie completion zsh)
        _ghostie() {
          local line="${(j: :)${(@)words[1,CURRENT]}}"
          local -a suggestions
          suggestions=(${(f)"$(ghostie "[suggest:${#line}]" "$line" 2>/dev/null)"})
          compadd -a suggestions
        }
        if (( $+functions[compdef] )); then
          compdef _ghostie ghostie
        fi

        """;

    // Load with: ghostie completion fish | source   (or save it as ~/.config/fish/completions/ghostie.fish)
    private const string Fish = """
        # fish completion for ghostie: ghostie completion fish | source
        function __ghostie_complete
            set -l line (commandline -cp)
            ghostie "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null
        end
        complete -c ghostie -f -a '(__ghostie_complete)'

        """;
}
